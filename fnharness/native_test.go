package fnharness

import (
	"context"
	"strings"
	"testing"
	"time"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/sluice-runner/sluice/codegen/native/protocol"
)

// A native harness that never comes costs only the wait: AttachNative says why, and the
// worker id it reserved is gone.
func TestAttachNativeTimesOut(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, nil)
	_, err := s.AttachNative(testCtx(t), w, 100*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "no native harness connected") {
		t.Fatalf("AttachNative: %v", err)
	}
	ctx := metadata.NewIncomingContext(context.Background(), metadata.Pairs("worker_id", w.ID()+protocol.WorkerSuffix))
	if _, err := s.workerFor(ctx); status.Code(err) != codes.NotFound {
		t.Errorf("the native worker id after a failed attach: %v, want NotFound", err)
	}
}

// The chains a native harness announces, and the stages it knows but runs portably, are
// what the runner routes by.
func TestAttachNativeReadsAnnouncedStages(t *testing.T) {
	s := startServer(t)
	w, _ := startFakeWorker(t, s, nil)
	conn, err := grpc.NewClient(s.Endpoint(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	connected := make(chan error, 1)
	go func() {
		ctx := metadata.NewOutgoingContext(testCtx(t), metadata.Pairs(
			"worker_id", w.ID()+protocol.WorkerSuffix,
			protocol.FingerprintsKey, "fp1,fp2",
			protocol.PortableKey, "fp3 it keeps user state"))
		for {
			stream, err := fnpb.NewBeamFnControlClient(conn).Control(ctx)
			if err == nil {
				var hdr metadata.MD
				if hdr, err = stream.Header(); err == nil && hdr.Len() > 0 {
					connected <- nil
					<-ctx.Done()
					return
				}
				if err == nil {
					_, err = stream.Recv()
				}
			}
			if status.Code(err) != codes.NotFound {
				connected <- err
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	nw, err := s.AttachNative(testCtx(t), w, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer nw.Stop(context.Background())
	if err := <-connected; err != nil {
		t.Fatal(err)
	}
	if !nw.HasChain("fp1") || !nw.HasChain("fp2") || nw.HasChain("fp3") {
		t.Errorf("chains: fp1 %v, fp2 %v, fp3 %v; want the first two", nw.HasChain("fp1"), nw.HasChain("fp2"), nw.HasChain("fp3"))
	}
	if why, ok := nw.PortableReason("fp3"); !ok || why != "it keeps user state" {
		t.Errorf("PortableReason(fp3) = %q, %v", why, ok)
	}
	if _, ok := nw.PortableReason("fp1"); ok {
		t.Error("fp1 has a chain but a portable reason")
	}
}

// PROCESS workers learn where the Fn API is from their Go options; other options stay.
func TestWithNativeEndpoint(t *testing.T) {
	opts, err := structpb.NewStruct(map[string]any{
		"beam:option:go_options:v1": map[string]any{"options": map[string]any{"hooks": "{}"}},
		"beam:option:job_name:v1":   "j",
	})
	if err != nil {
		t.Fatal(err)
	}
	got := withNativeEndpoint(opts, "127.0.0.1:1234")
	inner := got.GetFields()["beam:option:go_options:v1"].GetStructValue().GetFields()["options"].GetStructValue().GetFields()
	if inner[protocol.EndpointOption].GetStringValue() != "127.0.0.1:1234" || inner["hooks"].GetStringValue() != "{}" {
		t.Errorf("options after: %v", got)
	}
	if _, changed := opts.GetFields()["beam:option:go_options:v1"].GetStructValue().GetFields()["options"].GetStructValue().GetFields()[protocol.EndpointOption]; changed {
		t.Error("the input options were changed")
	}
	if withNativeEndpoint(nil, "x") != nil {
		t.Error("nil options gained fields")
	}
	other, _ := structpb.NewStruct(map[string]any{"beam:option:job_name:v1": "j"})
	if got := withNativeEndpoint(other, "x"); len(got.GetFields()) != 1 {
		t.Errorf("a non-Go pipeline's options: %v", got)
	}
}
