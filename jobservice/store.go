package jobservice

import (
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// ErrNotFound is returned by a Store for an unknown job id.
var ErrNotFound = errors.New("job not found")

// JobRecord is the durable part of a job: what was submitted and where it
// got to. Messages and live subscribers are not part of it.
type JobRecord struct {
	JobID    string
	JobName  string
	Seq      uint64 // creation order, for listing
	Pipeline *pipepb.Pipeline
	// Staged is true once Pipeline's dependencies point at stored files.
	Staged  bool
	Options *structpb.Struct
	State   jobpb.JobState_Enum
	StateAt time.Time
	Created time.Time
}

func (r *JobRecord) clone() *JobRecord {
	c := *r
	if r.Pipeline != nil {
		c.Pipeline = proto.Clone(r.Pipeline).(*pipepb.Pipeline)
	}
	if r.Options != nil {
		c.Options = proto.Clone(r.Options).(*structpb.Struct)
	}
	return &c
}

// Store keeps job records. Implementations must be safe for concurrent use
// and must not retain or mutate the records they are given or return.
type Store interface {
	// Put creates or replaces the record with rec.JobID.
	Put(rec *JobRecord) error
	// Get returns the record for id, or an error wrapping ErrNotFound.
	Get(id string) (*JobRecord, error)
	// List returns every record, in creation order.
	List() ([]*JobRecord, error)
}

// MemStore is an in-memory Store, used by the embedded server and in tests.
type MemStore struct {
	mu   sync.Mutex
	recs map[string]*JobRecord
}

// NewMemStore returns an empty MemStore.
func NewMemStore() *MemStore { return &MemStore{recs: map[string]*JobRecord{}} }

// Put implements Store.
func (m *MemStore) Put(rec *JobRecord) error {
	if rec == nil || rec.JobID == "" {
		return errors.New("job record without a job id")
	}
	c := rec.clone()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[rec.JobID] = c
	return nil
}

// Get implements Store.
func (m *MemStore) Get(id string) (*JobRecord, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.recs[id]
	if !ok {
		return nil, fmt.Errorf("job %q: %w", id, ErrNotFound)
	}
	return r.clone(), nil
}

// List implements Store.
func (m *MemStore) List() ([]*JobRecord, error) {
	m.mu.Lock()
	out := make([]*JobRecord, 0, len(m.recs))
	for _, r := range m.recs {
		out = append(out, r.clone())
	}
	m.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].Seq < out[j].Seq })
	return out, nil
}
