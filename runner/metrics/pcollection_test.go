package metrics

import (
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

func TestWithoutPCollectionCounts(t *testing.T) {
	mi := func(urn, pc string) *pipepb.MonitoringInfo {
		return &pipepb.MonitoringInfo{Urn: urn, Labels: map[string]string{"PCOLLECTION": pc}}
	}
	infos := []*pipepb.MonitoringInfo{
		mi(urnElementCount, "in"), mi(urnSampledByteSize, "in"), mi(urnElementCount, "out"),
		{Urn: "beam:metric:user:sum_int64:v1", Labels: map[string]string{"PTRANSFORM": "t"}},
	}
	got := WithoutPCollectionCounts(infos, "in")
	if len(got) != 2 || got[0].GetLabels()["PCOLLECTION"] != "out" || got[1].GetUrn() != "beam:metric:user:sum_int64:v1" {
		t.Errorf("kept %v, want the count of out and the user metric", got)
	}
	if got := WithoutPCollectionCounts(got, ""); len(got) != 2 {
		t.Errorf("no PCollection to drop changed the infos: %v", got)
	}
}
