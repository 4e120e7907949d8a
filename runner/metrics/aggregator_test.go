package metrics

import (
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

func TestAggregatorMerges(t *testing.T) {
	labels := map[string]string{"PTRANSFORM": "t1", "NAMESPACE": "ns", "NAME": "n"}
	counter := func(v int64) *pipepb.MonitoringInfo {
		return &pipepb.MonitoringInfo{Urn: "beam:metric:user:sum_int64:v1", Type: typeSumInt64, Labels: labels, Payload: encodeVarInts(v)}
	}
	dist := func(c, s, lo, hi int64) *pipepb.MonitoringInfo {
		return &pipepb.MonitoringInfo{Urn: "beam:metric:user:distribution_int64:v1", Type: typeDistributionInt64, Labels: labels, Payload: encodeVarInts(c, s, lo, hi)}
	}
	gauge := func(ts, v int64) *pipepb.MonitoringInfo {
		return &pipepb.MonitoringInfo{Urn: "beam:metric:user:latest_int64:v1", Type: typeLatestInt64, Labels: labels, Payload: encodeVarInts(ts, v)}
	}
	a := NewAggregator()
	if err := a.Add([]*pipepb.MonitoringInfo{counter(2), dist(1, 3, 3, 3), gauge(10, 7)}); err != nil {
		t.Fatal(err)
	}
	if err := a.Add([]*pipepb.MonitoringInfo{counter(5), dist(2, 18, 7, 11), gauge(5, 1)}); err != nil {
		t.Fatal(err)
	}
	got := map[string][]int64{}
	for _, mi := range a.Snapshot() {
		n := map[string]int{typeSumInt64: 1, typeDistributionInt64: 4, typeLatestInt64: 2}[mi.GetType()]
		v, err := decodeVarInts(mi.GetPayload(), n)
		if err != nil {
			t.Fatal(err)
		}
		got[mi.GetType()] = v
	}
	want := map[string][]int64{typeSumInt64: {7}, typeDistributionInt64: {3, 21, 3, 11}, typeLatestInt64: {10, 7}}
	for typ, w := range want {
		if g := got[typ]; len(g) != len(w) || func() bool {
			for i := range w {
				if g[i] != w[i] {
					return true
				}
			}
			return false
		}() {
			t.Errorf("%s = %v, want %v", typ, g, w)
		}
	}
	if err := a.Add([]*pipepb.MonitoringInfo{{Urn: "x", Type: typeSumInt64, Payload: []byte{0x80}}}); err == nil {
		t.Error("Add of a truncated payload succeeded, want an error")
	}
}
