package jobservice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
)

// retrievalChunk is the size of GetArtifact data chunks.
const retrievalChunk = 1 << 20

// ArtifactRetrieval implements ArtifactRetrievalService for workers. Staged
// artifacts are already files under DataDir/artifacts/sha256, so resolution
// is the identity and GetArtifact streams those files, and only those
// (partial uploads in DataDir/artifacts/tmp are not served).
type ArtifactRetrieval struct {
	jobpb.UnimplementedArtifactRetrievalServiceServer
	root string
	log  *slog.Logger
}

// Register mounts the service on g (the job port, the Fn API port, or both).
func (r *ArtifactRetrieval) Register(g grpc.ServiceRegistrar) {
	jobpb.RegisterArtifactRetrievalServiceServer(g, r)
}

// ResolveArtifacts returns the artifacts unchanged.
func (r *ArtifactRetrieval) ResolveArtifacts(_ context.Context, req *jobpb.ResolveArtifactsRequest) (*jobpb.ResolveArtifactsResponse, error) {
	return &jobpb.ResolveArtifactsResponse{Replacements: req.GetArtifacts()}, nil
}

// GetArtifact streams a staged file artifact in 1 MiB chunks.
func (r *ArtifactRetrieval) GetArtifact(req *jobpb.GetArtifactRequest, stream jobpb.ArtifactRetrievalService_GetArtifactServer) error {
	a := req.GetArtifact()
	if a.GetTypeUrn() != URNArtifactFile {
		return status.Errorf(codes.InvalidArgument, "cannot retrieve artifact of type %q: only %s artifacts are served", a.GetTypeUrn(), URNArtifactFile)
	}
	var pl pipepb.ArtifactFilePayload
	if err := proto.Unmarshal(a.GetTypePayload(), &pl); err != nil {
		return status.Errorf(codes.InvalidArgument, "bad file artifact payload: %v", err)
	}
	path, ok := within(r.root, pl.GetPath())
	if !ok {
		r.log.Warn("refused artifact outside the artifact store", slog.String("path", pl.GetPath()))
		return status.Errorf(codes.PermissionDenied, "artifact path %q is not a staged artifact (outside %s)", pl.GetPath(), r.root)
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return status.Errorf(codes.NotFound, "artifact %q does not exist", pl.GetPath())
	}
	if err != nil {
		return status.Errorf(codes.Internal, "opening artifact %q: %v", pl.GetPath(), err)
	}
	defer f.Close()
	if err := sendChunks(f, stream); err != nil {
		return status.Errorf(status.Code(err), "sending artifact %q: %v", pl.GetPath(), err)
	}
	return nil
}

func sendChunks(f io.Reader, stream jobpb.ArtifactRetrievalService_GetArtifactServer) error {
	buf := make([]byte, retrievalChunk)
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if serr := stream.Send(&jobpb.GetArtifactResponse{Data: buf[:n]}); serr != nil {
				return serr
			}
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading: %w", err)
		}
	}
}
