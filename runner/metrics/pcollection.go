package metrics

import (
	"slices"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// PCollection metrics the SDK reports per PCollection.
const (
	urnElementCount    = "beam:metric:element_count:v1"
	urnSampledByteSize = "beam:metric:sampled_byte_size:v1"
)

// WithoutPCollectionCounts returns infos without the element counts and sampled sizes of
// PCollection pc. A PCollection that crosses from one SDK stage to another is counted by
// both: by the transform that produces it and by the data source that reads it in the next
// stage; the consumer drops its count so that every element counts once. (It modifies
// infos' backing array.)
func WithoutPCollectionCounts(infos []*pipepb.MonitoringInfo, pc string) []*pipepb.MonitoringInfo {
	if pc == "" {
		return infos
	}
	return slices.DeleteFunc(infos, func(mi *pipepb.MonitoringInfo) bool {
		u := mi.GetUrn()
		return (u == urnElementCount || u == urnSampledByteSize) && mi.GetLabels()["PCOLLECTION"] == pc
	})
}
