package trigger

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// ErrInvalid is wrapped by New's errors for a malformed trigger: a missing part, a
// count below one, a negative delay.
var ErrInvalid = errors.New("invalid trigger")

// ErrUnsupported is wrapped by New's errors for a trigger kind this package does not
// know (one added to Beam's model after this package was written).
var ErrUnsupported = errors.New("unsupported trigger")

// Machine is a parsed, immutable trigger tree. It holds no per-window data, so one
// Machine serves every (window, key) of a GroupByKey and may be used from several
// goroutines at once; the mutable part is State.
type Machine struct {
	// nodes is the tree in pre-order: node 0 is the root and the subtree of node i is
	// nodes[i:nodes[i].end]. The flat layout lets a State be a plain slice indexed like
	// it, and lets a subtree be reset by zeroing a range (Java numbers its
	// ExecutableTriggerStateMachine tree the same way for its finished bits).
	nodes []node
	str   string
	// fingerprint identifies the tree in encoded states, so that a state written for
	// another trigger is refused instead of being misread. It hashes String, so
	// changing String's format makes states written before the change undecodable.
	fingerprint uint32
}

type kind uint8

const (
	kindDefault kind = iota + 1
	kindAlways
	kindNever
	kindAfterCount
	// kindEndOfWindow is AfterEndOfWindow with neither early nor late firings: it fires
	// once, when the watermark passes the end of the window, and finishes.
	kindEndOfWindow
	// kindEndOfWindowPhased is AfterEndOfWindow with early and/or late firings; subs[0]
	// is the early trigger (Never when the proto has none), subs[1] the late one if any.
	kindEndOfWindowPhased
	kindProcessingTime
	kindSynchronizedProcessingTime
	kindAfterAll
	kindAfterAny
	kindAfterEach
	kindRepeat
	kindOrFinally // subs[0] is the main trigger, subs[1] the finally one
)

type node struct {
	kind kind
	// end is the index after this node's subtree.
	end  int
	subs []int
	// count is AfterCount's threshold.
	count int64
	// transforms are AfterProcessingTime's, applied in order to the processing time of
	// the first element of a pane.
	transforms []transform
	// noEarly and hasLate say which firings an AfterEndOfWindow proto named, for String.
	noEarly, hasLate bool
}

// transform is one of AfterProcessingTime's timestamp transforms: a delay when period is
// zero, else an alignment to the next multiple of period counted from offset.
type transform struct {
	delay          int64
	period, offset int64
}

// New parses a Beam trigger proto into a Machine. It accepts every trigger of Beam's
// model: Default, Always, Never, ElementCount (AfterCount), AfterEndOfWindow with early
// and late firings, AfterProcessingTime (Delay and AlignTo transforms),
// AfterSynchronizedProcessingTime, AfterAll, AfterAny, AfterEach, Repeat and OrFinally.
// Its errors wrap ErrInvalid or ErrUnsupported and name the offending trigger by its
// path from the root, e.g. "invalid trigger: Repeat: AfterAll[1]: AfterCount(0): ...".
func New(t *pipepb.Trigger) (*Machine, error) {
	m := &Machine{}
	if _, err := m.add(t); err != nil {
		kind := ErrInvalid
		if errors.Is(err, errUnknownKind) {
			kind = ErrUnsupported
		}
		return nil, fmt.Errorf("%w: %w", kind, err)
	}
	m.str = m.render(0)
	m.fingerprint = fnv32(m.str)
	return m, nil
}

// errUnknownKind marks, below New, the errors New reports as ErrUnsupported; the
// others are ErrInvalid. New adds the sentinel once, in front of the path.
var errUnknownKind = errors.New("unknown kind")

// add appends t's subtree in pre-order and returns the index of its root.
func (m *Machine) add(t *pipepb.Trigger) (int, error) {
	i := len(m.nodes)
	m.nodes = append(m.nodes, node{})
	var n node
	// subs are the sub-trigger protos, with the names errors give them.
	var subs []*pipepb.Trigger
	var names []string
	list := func(name string, ts []*pipepb.Trigger) error {
		if len(ts) == 0 {
			return fmt.Errorf("%s: no subtriggers", name)
		}
		for k := range ts {
			names = append(names, fmt.Sprintf("%s[%d]", name, k))
		}
		subs = ts
		return nil
	}
	switch p := t.GetTrigger().(type) {
	case *pipepb.Trigger_Default_:
		n.kind = kindDefault
	case *pipepb.Trigger_Always_:
		n.kind = kindAlways
	case *pipepb.Trigger_Never_:
		n.kind = kindNever
	case *pipepb.Trigger_ElementCount_:
		n.kind = kindAfterCount
		n.count = int64(p.ElementCount.GetElementCount())
		if n.count < 1 {
			return 0, fmt.Errorf("AfterCount(%d): the element count must be at least 1", n.count)
		}
	case *pipepb.Trigger_AfterEndOfWindow_:
		early, late := p.AfterEndOfWindow.GetEarlyFirings(), p.AfterEndOfWindow.GetLateFirings()
		if early == nil && late == nil {
			n.kind = kindEndOfWindow
			break
		}
		n.kind = kindEndOfWindowPhased
		if early == nil {
			// Java's withLateFirings alone means early firings Never; the phase logic
			// then needs no special case.
			n.noEarly = true
			early = &pipepb.Trigger{Trigger: &pipepb.Trigger_Never_{Never: &pipepb.Trigger_Never{}}}
		}
		subs, names = []*pipepb.Trigger{early}, []string{"AfterEndOfWindow.early"}
		if late != nil {
			n.hasLate = true
			subs, names = append(subs, late), append(names, "AfterEndOfWindow.late")
		}
	case *pipepb.Trigger_AfterProcessingTime_:
		n.kind = kindProcessingTime
		for k, tt := range p.AfterProcessingTime.GetTimestampTransforms() {
			tr, err := parseTransform(tt)
			if err != nil {
				return 0, fmt.Errorf("AfterProcessingTime: timestamp transform %d: %w", k, err)
			}
			n.transforms = append(n.transforms, tr)
		}
	case *pipepb.Trigger_AfterSynchronizedProcessingTime_:
		n.kind = kindSynchronizedProcessingTime
	case *pipepb.Trigger_AfterAll_:
		n.kind = kindAfterAll
		if err := list("AfterAll", p.AfterAll.GetSubtriggers()); err != nil {
			return 0, err
		}
	case *pipepb.Trigger_AfterAny_:
		n.kind = kindAfterAny
		if err := list("AfterAny", p.AfterAny.GetSubtriggers()); err != nil {
			return 0, err
		}
	case *pipepb.Trigger_AfterEach_:
		n.kind = kindAfterEach
		if err := list("AfterEach", p.AfterEach.GetSubtriggers()); err != nil {
			return 0, err
		}
	case *pipepb.Trigger_Repeat_:
		n.kind = kindRepeat
		if p.Repeat.GetSubtrigger() == nil {
			return 0, errors.New("Repeat: subtrigger not set")
		}
		subs, names = []*pipepb.Trigger{p.Repeat.GetSubtrigger()}, []string{"Repeat"}
	case *pipepb.Trigger_OrFinally_:
		n.kind = kindOrFinally
		main, finally := p.OrFinally.GetMain(), p.OrFinally.GetFinally()
		if main == nil || finally == nil {
			return 0, errors.New("OrFinally: needs both a main and a finally trigger")
		}
		subs, names = []*pipepb.Trigger{main, finally}, []string{"OrFinally.main", "OrFinally.finally"}
	case nil:
		return 0, errors.New("trigger not set")
	default:
		return 0, fmt.Errorf("%w %T", errUnknownKind, p)
	}
	for k, st := range subs {
		c, err := m.add(st)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", names[k], err)
		}
		n.subs = append(n.subs, c)
	}
	n.end = len(m.nodes)
	m.nodes[i] = n
	return i, nil
}

func parseTransform(tt *pipepb.TimestampTransform) (transform, error) {
	switch p := tt.GetTimestampTransform().(type) {
	case *pipepb.TimestampTransform_Delay_:
		d := p.Delay.GetDelayMillis()
		if d < 0 {
			return transform{}, fmt.Errorf("negative delay %v", ms(d))
		}
		return transform{delay: d}, nil
	case *pipepb.TimestampTransform_AlignTo_:
		period := p.AlignTo.GetPeriod()
		if period <= 0 {
			return transform{}, fmt.Errorf("alignment period %v is not positive", ms(period))
		}
		return transform{period: period, offset: p.AlignTo.GetOffset()}, nil
	case nil:
		return transform{}, errors.New("not set")
	default:
		return transform{}, fmt.Errorf("%w of timestamp transform %T", errUnknownKind, p)
	}
}

// String renders the trigger the way this repository and Beam's Go SDK name triggers:
// "Repeat(AfterCount(2))", "AfterEndOfWindow(early=AfterCount(2), late=AfterCount(1))",
// "AfterProcessingTime(delay=5s)", "OrFinally(Always, AfterCount(2))".
func (m *Machine) String() string { return m.str }

func (m *Machine) render(i int) string {
	n := &m.nodes[i]
	subs := func(name string) string {
		parts := make([]string, len(n.subs))
		for k, c := range n.subs {
			parts[k] = m.render(c)
		}
		return name + "(" + strings.Join(parts, ", ") + ")"
	}
	switch n.kind {
	case kindDefault:
		return "Default"
	case kindAlways:
		return "Always"
	case kindNever:
		return "Never"
	case kindAfterCount:
		return fmt.Sprintf("AfterCount(%d)", n.count)
	case kindEndOfWindow:
		return "AfterEndOfWindow"
	case kindEndOfWindowPhased:
		var parts []string
		if !n.noEarly {
			parts = append(parts, "early="+m.render(n.subs[0]))
		}
		if n.hasLate {
			parts = append(parts, "late="+m.render(n.subs[1]))
		}
		return "AfterEndOfWindow(" + strings.Join(parts, ", ") + ")"
	case kindProcessingTime:
		if len(n.transforms) == 0 {
			return "AfterProcessingTime"
		}
		parts := make([]string, len(n.transforms))
		for k, tr := range n.transforms {
			switch {
			case tr.period == 0:
				parts[k] = fmt.Sprintf("delay=%v", ms(tr.delay))
			case tr.offset == 0:
				parts[k] = fmt.Sprintf("alignTo=%v", ms(tr.period))
			default:
				parts[k] = fmt.Sprintf("alignTo=%v@%v", ms(tr.period), ms(tr.offset))
			}
		}
		return "AfterProcessingTime(" + strings.Join(parts, ", ") + ")"
	case kindSynchronizedProcessingTime:
		return "AfterSynchronizedProcessingTime"
	case kindAfterAll:
		return subs("AfterAll")
	case kindAfterAny:
		return subs("AfterAny")
	case kindAfterEach:
		return subs("AfterEach")
	case kindRepeat:
		return subs("Repeat")
	case kindOrFinally:
		return subs("OrFinally")
	}
	return fmt.Sprintf("kind(%d)", n.kind)
}

// ms renders Beam milliseconds as a Go duration ("5s", "1m0s"), the unit users write
// in the Go SDK's PlusDelay and AlignedTo; beyond what a Duration holds (292 years), as
// plain milliseconds.
func ms(v int64) string {
	const limit = math.MaxInt64 / int64(time.Millisecond)
	if v > limit || v < -limit {
		return strconv.FormatInt(v, 10) + "ms"
	}
	return (time.Duration(v) * time.Millisecond).String()
}

func fnv32(s string) uint32 {
	h := uint32(2166136261)
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= 16777619
	}
	return h
}
