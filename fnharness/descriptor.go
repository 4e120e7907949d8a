package fnharness

import (
	"fmt"
	"sort"

	fnpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/fnexecution_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
)

// URNs of the runner-provided data-plane transforms.
const (
	URNDataSource = "beam:runner:source:v1"
	URNDataSink   = "beam:runner:sink:v1"
)

// fillEndpoints returns a copy of desc whose RemoteGrpcPorts, state API and timer
// API point at endpoint.
func fillEndpoints(desc *fnpb.ProcessBundleDescriptor, endpoint string) (*fnpb.ProcessBundleDescriptor, error) {
	if endpoint == "" {
		return nil, fmt.Errorf("the server is not serving yet")
	}
	out := proto.Clone(desc).(*fnpb.ProcessBundleDescriptor)
	for id, t := range out.GetTransforms() {
		urn := t.GetSpec().GetUrn()
		if urn != URNDataSource && urn != URNDataSink {
			continue
		}
		port := &fnpb.RemoteGrpcPort{}
		if err := proto.Unmarshal(t.GetSpec().GetPayload(), port); err != nil {
			return nil, fmt.Errorf("transform %q (%s): decoding its RemoteGrpcPort: %w", id, urn, err)
		}
		if port.GetCoderId() == "" {
			return nil, fmt.Errorf("transform %q (%s): its RemoteGrpcPort has no coder_id", id, urn)
		}
		port.ApiServiceDescriptor = apiDesc(endpoint)
		payload, err := proto.Marshal(port)
		if err != nil {
			return nil, fmt.Errorf("transform %q (%s): encoding its RemoteGrpcPort: %w", id, urn, err)
		}
		t.Spec.Payload = payload
	}
	out.StateApiServiceDescriptor = apiDesc(endpoint)
	out.TimerApiServiceDescriptor = apiDesc(endpoint)
	return out, nil
}

// DataSources lists the beam:runner:source:v1 transforms of desc, sorted: the
// transform ids Bundle.Send and CloseInput take.
func DataSources(desc *fnpb.ProcessBundleDescriptor) []string {
	return transformsWithURN(desc.GetTransforms(), URNDataSource)
}

// DataSinks lists the beam:runner:sink:v1 transforms of desc, sorted: the
// transform ids of a bundle's data outputs.
func DataSinks(desc *fnpb.ProcessBundleDescriptor) []string {
	return transformsWithURN(desc.GetTransforms(), URNDataSink)
}

func sinkTransforms(desc *fnpb.ProcessBundleDescriptor) []string { return DataSinks(desc) }

func transformsWithURN(transforms map[string]*pipepb.PTransform, urn string) []string {
	var ids []string
	for id, t := range transforms {
		if t.GetSpec().GetUrn() == urn {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}
