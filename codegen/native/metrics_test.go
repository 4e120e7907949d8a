package native

import (
	"context"
	"testing"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/metrics"

	"github.com/sluice-runner/sluice/codegen/rt"
	"github.com/sluice-runner/sluice/runner/wire"
)

// User metrics a DoFn updates through its transform's context come back as the SDK
// harness reports them: one monitoring info per metric, labelled with the transform id.
func TestUserMetricsReported(t *testing.T) {
	bctx := metrics.SetBundleID(context.Background(), "inst-1")
	ctx := rt.TransformContext(bctx, "t1")
	beam.NewCounter("ns", "lines").Inc(ctx, 3)
	beam.NewCounter("ns", "lines").Inc(ctx, 4)
	beam.NewDistribution("ns", "sizes").Update(rt.TransformContext(bctx, "t2"), 10)

	infos, err := userMetrics(metrics.GetStore(bctx))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, mi := range infos {
		got[mi.GetUrn()+" "+mi.GetLabels()["PTRANSFORM"]+" "+mi.GetLabels()["NAME"]] = mi.GetType()
		if mi.GetUrn() == "beam:metric:user:sum_int64:v1" {
			if v, _, err := wire.DecodeVarInt(mi.GetPayload()); err != nil || v != 7 {
				t.Errorf("counter payload %x: %d, %v; want 7", mi.GetPayload(), v, err)
			}
		}
	}
	want := map[string]string{
		"beam:metric:user:sum_int64:v1 t1 lines":          "beam:metrics:sum_int64:v1",
		"beam:metric:user:distribution_int64:v1 t2 sizes": "beam:metrics:distribution_int64:v1",
	}
	if len(got) != len(want) {
		t.Fatalf("metrics %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: type %q, want %q", k, got[k], v)
		}
	}
	if infos, err := userMetrics(nil); err != nil || infos != nil {
		t.Errorf("no store: %v, %v", infos, err)
	}
}
