package metrics

import (
	"bytes"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// MonitoringInfo value types (MonitoringInfo.type), which say how values merge.
const (
	typeSumInt64          = "beam:metrics:sum_int64:v1"
	typeDistributionInt64 = "beam:metrics:distribution_int64:v1"
	typeLatestInt64       = "beam:metrics:latest_int64:v1"
)

// Aggregator merges bundle metrics of one job. Tasks of the job call Add concurrently as
// their bundles finish; the job service reads Snapshot.
type Aggregator struct {
	mu     sync.Mutex
	values map[string]*entry
}

type entry struct {
	info *pipepb.MonitoringInfo // urn, type, labels; payload rebuilt on snapshot
	ints [4]int64               // sum | count,sum,min,max | timestamp,value
	seen bool
}

// NewAggregator returns an empty aggregator.
func NewAggregator() *Aggregator { return &Aggregator{values: map[string]*entry{}} }

// Add merges the metrics of one finished bundle. Values of a type it cannot merge keep the
// most recent payload.
func (a *Aggregator) Add(infos []*pipepb.MonitoringInfo) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	var errs []string
	for _, mi := range infos {
		if err := a.add(mi); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("bad monitoring infos: %s", strings.Join(errs, "; "))
	}
	return nil
}

func (a *Aggregator) add(mi *pipepb.MonitoringInfo) error {
	k := key(mi)
	e := a.values[k]
	if e == nil {
		e = &entry{info: &pipepb.MonitoringInfo{Urn: mi.GetUrn(), Type: mi.GetType(), Labels: mi.GetLabels()}}
		a.values[k] = e
	}
	switch mi.GetType() {
	case typeSumInt64:
		v, err := decodeVarInts(mi.GetPayload(), 1)
		if err != nil {
			return fmt.Errorf("%s: %w", mi.GetUrn(), err)
		}
		e.ints[0] += v[0]
	case typeDistributionInt64:
		v, err := decodeVarInts(mi.GetPayload(), 4)
		if err != nil {
			return fmt.Errorf("%s: %w", mi.GetUrn(), err)
		}
		if !e.seen {
			e.ints = [4]int64{v[0], v[1], v[2], v[3]}
		} else {
			e.ints[0] += v[0]
			e.ints[1] += v[1]
			e.ints[2] = min(e.ints[2], v[2])
			e.ints[3] = max(e.ints[3], v[3])
		}
	case typeLatestInt64:
		v, err := decodeVarInts(mi.GetPayload(), 2)
		if err != nil {
			return fmt.Errorf("%s: %w", mi.GetUrn(), err)
		}
		if !e.seen || v[0] >= e.ints[0] {
			e.ints[0], e.ints[1] = v[0], v[1]
		}
	default:
		e.info.Payload = mi.GetPayload()
	}
	e.seen = true
	return nil
}

// Snapshot returns the merged values, ordered by URN and labels.
func (a *Aggregator) Snapshot() []*pipepb.MonitoringInfo {
	a.mu.Lock()
	defer a.mu.Unlock()
	keys := make([]string, 0, len(a.values))
	for k := range a.values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]*pipepb.MonitoringInfo, 0, len(keys))
	for _, k := range keys {
		e := a.values[k]
		mi := &pipepb.MonitoringInfo{Urn: e.info.Urn, Type: e.info.Type, Labels: e.info.Labels, Payload: e.info.Payload}
		switch e.info.Type {
		case typeSumInt64:
			mi.Payload = encodeVarInts(e.ints[0])
		case typeDistributionInt64:
			mi.Payload = encodeVarInts(e.ints[0], e.ints[1], e.ints[2], e.ints[3])
		case typeLatestInt64:
			mi.Payload = encodeVarInts(e.ints[0], e.ints[1])
		}
		out = append(out, mi)
	}
	return out
}

func key(mi *pipepb.MonitoringInfo) string {
	labels := make([]string, 0, len(mi.GetLabels()))
	for k, v := range mi.GetLabels() {
		labels = append(labels, k+"="+v)
	}
	sort.Strings(labels)
	return mi.GetUrn() + "|" + strings.Join(labels, "|")
}

func decodeVarInts(payload []byte, n int) ([]int64, error) {
	r := bytes.NewReader(payload)
	out := make([]int64, n)
	for i := range out {
		v, err := coder.DecodeVarInt(r)
		if err != nil {
			return nil, fmt.Errorf("payload has %d of %d values: %w", i, n, err)
		}
		out[i] = v
	}
	return out, nil
}

func encodeVarInts(vs ...int64) []byte {
	var buf bytes.Buffer
	for _, v := range vs {
		_ = coder.EncodeVarInt(v, &buf) // writes to a bytes.Buffer cannot fail
	}
	return buf.Bytes()
}
