package jobservice

import (
	"sort"
	"strconv"
	"time"

	jobpb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/jobmanagement_v1"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// event is one entry of a job's history, numbered in the order it happened.
type event struct {
	seq  uint64
	resp *jobpb.JobMessagesResponse
}

// history is a job's state changes (all kept; there are only a handful) and
// its messages (the most recent max kept). Not safe for concurrent use; the
// owning job's mutex guards it.
type history struct {
	seq    uint64
	states []event
	msgs   []event
	max    int
}

func newHistory(maxMessages int) *history { return &history{max: maxMessages} }

func (h *history) addState(s jobpb.JobState_Enum, at time.Time) uint64 {
	h.seq++
	h.states = append(h.states, event{seq: h.seq, resp: &jobpb.JobMessagesResponse{
		Response: &jobpb.JobMessagesResponse_StateResponse{
			StateResponse: &jobpb.JobStateEvent{State: s, Timestamp: timestamppb.New(at)},
		},
	}})
	return h.seq
}

func (h *history) addMessage(imp jobpb.JobMessage_MessageImportance, text string, at time.Time) {
	h.seq++
	e := event{seq: h.seq, resp: &jobpb.JobMessagesResponse{
		Response: &jobpb.JobMessagesResponse_MessageResponse{
			MessageResponse: &jobpb.JobMessage{
				MessageId:   strconv.FormatUint(h.seq, 10),
				Time:        at.UTC().Format(time.RFC3339Nano),
				Importance:  imp,
				MessageText: text,
			},
		},
	}}
	if h.max > 0 && len(h.msgs) >= h.max {
		// Drop the oldest; re-slicing plus append reallocates now and then,
		// which keeps this amortised O(1) with at most ~2×max retained.
		h.msgs = h.msgs[len(h.msgs)-h.max+1:]
	}
	h.msgs = append(h.msgs, e)
}

// lastState returns the newest state event.
func (h *history) lastState() event { return h.states[len(h.states)-1] }

// since returns every retained event with seq > after, in order. With
// statesOnly, messages are left out.
func (h *history) since(after uint64, statesOnly bool) []event {
	st := h.states[sort.Search(len(h.states), func(i int) bool { return h.states[i].seq > after }):]
	var ms []event
	if !statesOnly {
		ms = h.msgs[sort.Search(len(h.msgs), func(i int) bool { return h.msgs[i].seq > after }):]
	}
	out := make([]event, 0, len(st)+len(ms))
	for len(st) > 0 || len(ms) > 0 {
		if len(ms) == 0 || (len(st) > 0 && st[0].seq < ms[0].seq) {
			out = append(out, st[0])
			st = st[1:]
		} else {
			out = append(out, ms[0])
			ms = ms[1:]
		}
	}
	return out
}

func isTerminal(s jobpb.JobState_Enum) bool {
	switch s {
	case jobpb.JobState_DONE, jobpb.JobState_FAILED, jobpb.JobState_CANCELLED,
		jobpb.JobState_DRAINED, jobpb.JobState_UPDATED:
		return true
	}
	return false
}
