package jobservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sort"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// Standard artifact URNs (beam_runner_api.proto StandardArtifacts).
const (
	URNArtifactFile     = "beam:artifact:type:file:v1"
	URNArtifactURL      = "beam:artifact:type:url:v1"
	URNArtifactEmbedded = "beam:artifact:type:embedded:v1"
	URNRoleStagingTo    = "beam:artifact:role:staging_to:v1"
)

// stagingAPI implements ArtifactStagingService.
type stagingAPI struct {
	jobpb.UnimplementedArtifactStagingServiceServer
	s *Server
}

// ReverseArtifactRetrievalService pulls a prepared job's dependencies from
// the submitting SDK. The client sends {staging_token}; the server then
// asks, environment by environment, ResolveArtifacts and GetArtifact for
// each dependency, stores the bytes and returns, which the client sees as
// EOF (success).
func (a *stagingAPI) ReverseArtifactRetrievalService(stream jobpb.ArtifactStagingService_ReverseArtifactRetrievalServiceServer) error {
	first, err := stream.Recv()
	if errors.Is(err, io.EOF) {
		return status.Error(codes.InvalidArgument, "artifact staging stream closed before the staging token was sent")
	}
	if err != nil {
		return err
	}
	token := first.GetStagingToken()
	if token == "" {
		return status.Error(codes.InvalidArgument, "the first artifact staging message must carry the staging_token returned by Prepare")
	}
	j, err := a.s.lookup(token)
	if err != nil {
		return status.Errorf(codes.NotFound, "no prepared job for staging token %q", token)
	}
	log := j.log
	if md, ok := metadata.FromIncomingContext(stream.Context()); ok && len(md.Get("worker_id")) > 0 {
		log = log.With(slog.String("worker_id", md.Get("worker_id")[0]))
	}

	j.mu.Lock()
	if st := j.rec.State; st != jobpb.JobState_STOPPED {
		j.mu.Unlock()
		return status.Errorf(codes.FailedPrecondition, "job %s is %s; artifacts can only be staged before Run", j.id, st)
	}
	if j.staging == stagingActive {
		j.mu.Unlock()
		return status.Errorf(codes.Aborted, "another artifact staging session for job %s is in progress", j.id)
	}
	j.staging, j.stagingErr = stagingActive, nil
	p := proto.Clone(j.rec.Pipeline).(*pipepb.Pipeline)
	j.mu.Unlock()

	log.Info("artifact staging started")
	st := &stager{stream: stream, store: a.s.artifacts, done: map[string]*pipepb.ArtifactInformation{}}
	err = st.stagePipeline(p)

	j.mu.Lock()
	if err != nil {
		j.staging, j.stagingErr = stagingFailed, err
	} else {
		j.staging = stagingDone
		j.rec.Pipeline, j.rec.Staged = p, true
		j.persistLocked()
	}
	j.mu.Unlock()
	if err != nil {
		log.Error("artifact staging failed", slog.Any("err", err))
		return stagingStatus(err)
	}
	log.Info("artifact staging done", slog.Int("artifacts", len(st.done)))
	return nil
}

// stagingStatus picks the gRPC code for a staging failure.
func stagingStatus(err error) error {
	switch {
	case errors.Is(err, errShaMismatch), errors.As(err, new(*protocolError)):
		return status.Errorf(codes.InvalidArgument, "artifact staging: %v", err)
	case errors.Is(err, context.Canceled), status.Code(err) == codes.Canceled:
		return status.Errorf(codes.Canceled, "artifact staging: %v", err)
	default:
		return status.Errorf(codes.Internal, "artifact staging: %v", err)
	}
}

// protocolError is a client that does not follow the reverse retrieval
// protocol.
type protocolError struct{ msg string }

func (e *protocolError) Error() string { return e.msg }

// stager runs one staging session.
type stager struct {
	stream jobpb.ArtifactStagingService_ReverseArtifactRetrievalServiceServer
	store  *artifactStore
	done   map[string]*pipepb.ArtifactInformation // by marshalled original
}

// stagePipeline rewrites every environment's dependencies in p to stored
// files, fetching them from the client.
func (st *stager) stagePipeline(p *pipepb.Pipeline) error {
	envs := p.GetComponents().GetEnvironments()
	ids := make([]string, 0, len(envs))
	for id := range envs {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		env := envs[id]
		if len(env.GetDependencies()) == 0 {
			continue
		}
		deps, err := st.resolve(env.GetDependencies())
		if err != nil {
			return fmt.Errorf("resolving dependencies of environment %q: %w", id, err)
		}
		out := make([]*pipepb.ArtifactInformation, 0, len(deps))
		for _, d := range deps {
			nd, err := st.fetch(d)
			if err != nil {
				return fmt.Errorf("environment %q: artifact %s: %w", id, describeArtifact(d), err)
			}
			out = append(out, nd)
		}
		env.Dependencies = out
	}
	return nil
}

func (st *stager) resolve(deps []*pipepb.ArtifactInformation) ([]*pipepb.ArtifactInformation, error) {
	err := st.stream.Send(&jobpb.ArtifactRequestWrapper{
		Request: &jobpb.ArtifactRequestWrapper_ResolveArtifact{
			ResolveArtifact: &jobpb.ResolveArtifactsRequest{Artifacts: deps},
		},
	})
	if err != nil {
		return nil, fmt.Errorf("sending ResolveArtifacts: %w", err)
	}
	resp, err := st.recv()
	if err != nil {
		return nil, err
	}
	rr := resp.GetResolveArtifactResponse()
	if rr == nil {
		return nil, &protocolError{fmt.Sprintf("expected a ResolveArtifactsResponse, got %T", resp.GetResponse())}
	}
	if len(rr.GetReplacements()) == 0 {
		return deps, nil
	}
	return rr.GetReplacements(), nil
}

func (st *stager) recv() (*jobpb.ArtifactResponseWrapper, error) {
	resp, err := st.stream.Recv()
	if errors.Is(err, io.EOF) {
		return nil, &protocolError{"client closed the staging stream before answering"}
	}
	if err != nil {
		return nil, fmt.Errorf("receiving from client: %w", err)
	}
	return resp, nil
}

// fetch stores one artifact and returns its file artifact replacement.
func (st *stager) fetch(d *pipepb.ArtifactInformation) (*pipepb.ArtifactInformation, error) {
	key, err := proto.MarshalOptions{Deterministic: true}.Marshal(d)
	if err != nil {
		return nil, fmt.Errorf("encoding artifact: %w", err)
	}
	if nd, ok := st.done[string(key)]; ok {
		return nd, nil
	}
	want, err := declaredSHA(d)
	if err != nil {
		return nil, err
	}
	w, err := st.store.create()
	if err != nil {
		return nil, err
	}
	if d.GetTypeUrn() == URNArtifactEmbedded {
		var pl pipepb.EmbeddedFilePayload
		if err := proto.Unmarshal(d.GetTypePayload(), &pl); err != nil {
			w.abort()
			return nil, &protocolError{fmt.Sprintf("bad embedded artifact payload: %v", err)}
		}
		if _, err := w.Write(pl.GetData()); err != nil {
			w.abort()
			return nil, err
		}
	} else if err := st.download(d, w); err != nil {
		w.abort()
		return nil, err
	}
	path, sum, err := w.commit(want)
	if err != nil {
		return nil, err
	}
	pl, err := proto.Marshal(&pipepb.ArtifactFilePayload{Path: path, Sha256: sum})
	if err != nil {
		return nil, fmt.Errorf("encoding file payload: %w", err)
	}
	nd := &pipepb.ArtifactInformation{
		TypeUrn:     URNArtifactFile,
		TypePayload: pl,
		RoleUrn:     d.GetRoleUrn(),
		RolePayload: d.GetRolePayload(),
	}
	st.done[string(key)] = nd
	return nd, nil
}

// download asks the client for d's bytes and copies them into w.
func (st *stager) download(d *pipepb.ArtifactInformation, w io.Writer) error {
	err := st.stream.Send(&jobpb.ArtifactRequestWrapper{
		Request: &jobpb.ArtifactRequestWrapper_GetArtifact{
			GetArtifact: &jobpb.GetArtifactRequest{Artifact: d},
		},
	})
	if err != nil {
		return fmt.Errorf("sending GetArtifact: %w", err)
	}
	for {
		resp, err := st.recv()
		if err != nil {
			return err
		}
		chunk := resp.GetGetArtifactResponse()
		if chunk == nil {
			return &protocolError{fmt.Sprintf("expected a GetArtifactResponse chunk, got %T", resp.GetResponse())}
		}
		if _, err := w.Write(chunk.GetData()); err != nil {
			return err
		}
		if resp.GetIsLast() {
			return nil
		}
	}
}

// declaredSHA returns the sha256 an artifact's payload declares, if any.
func declaredSHA(d *pipepb.ArtifactInformation) (string, error) {
	switch d.GetTypeUrn() {
	case URNArtifactFile:
		var pl pipepb.ArtifactFilePayload
		if err := proto.Unmarshal(d.GetTypePayload(), &pl); err != nil {
			return "", &protocolError{fmt.Sprintf("bad file artifact payload: %v", err)}
		}
		return pl.GetSha256(), nil
	case URNArtifactURL:
		var pl pipepb.ArtifactUrlPayload
		if err := proto.Unmarshal(d.GetTypePayload(), &pl); err != nil {
			return "", &protocolError{fmt.Sprintf("bad url artifact payload: %v", err)}
		}
		return pl.GetSha256(), nil
	}
	return "", nil
}

// describeArtifact names an artifact for error messages: its staged name,
// path or URL, falling back to its type.
func describeArtifact(d *pipepb.ArtifactInformation) string {
	if d.GetRoleUrn() == URNRoleStagingTo {
		var r pipepb.ArtifactStagingToRolePayload
		if proto.Unmarshal(d.GetRolePayload(), &r) == nil && r.GetStagedName() != "" {
			return fmt.Sprintf("%q", r.GetStagedName())
		}
	}
	switch d.GetTypeUrn() {
	case URNArtifactFile:
		var pl pipepb.ArtifactFilePayload
		if proto.Unmarshal(d.GetTypePayload(), &pl) == nil {
			return fmt.Sprintf("%q", pl.GetPath())
		}
	case URNArtifactURL:
		var pl pipepb.ArtifactUrlPayload
		if proto.Unmarshal(d.GetTypePayload(), &pl) == nil {
			return fmt.Sprintf("%q", pl.GetUrl())
		}
	}
	return fmt.Sprintf("of type %s (role %s)", d.GetTypeUrn(), d.GetRoleUrn())
}
