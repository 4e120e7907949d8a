package rt

import (
	"bytes"
	"fmt"
	"sort"

	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/coder"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/runtime/exec"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/timers"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
	"google.golang.org/protobuf/proto"

	"github.com/sluice-runner/sluice/runner/wire"
)

// UserTimers is what a stage instance knows of one ParDo's timer families: their time
// domains and the coders of their timer family coders (key and window), from the
// ParDoPayload's timer family specs, as exec's translate builds them for the SDK's
// userTimerAdapter.
type UserTimers struct {
	transform string
	families  map[string]*timerFamily
	ids       []string // the family ids, sorted
}

type timerFamily struct {
	domain timers.TimeDomain
	keyEnc exec.ElementEncoder
	keyDec exec.ElementDecoder
	winEnc exec.WindowEncoder
	winDec exec.WindowDecoder
}

// TimerOutput is the timers a bundle set in one family, encoded with the family's timer
// coder, back to back (possibly none): what the harness sends back on the data stream.
type TimerOutput struct {
	TransformID, Family string
	Data                []byte
}

// TimerBundle is implemented by the bundles of chains whose DoFns have timers: the
// harness hands them the timers the runner fires and takes the timers they set once
// Finish returned.
type TimerBundle interface {
	// ProcessTimers fires the timers of a family of a transform (encoded back to back).
	ProcessTimers(transformID, family string, data []byte) error
	// Timers are the timers set in the bundle, one entry per family of the stage.
	Timers() ([]TimerOutput, error)
}

// NewUserTimers reads the timer family specs of the ParDo named uniqueName (runner id
// transformID) from env.
func NewUserTimers(env StageEnv, uniqueName, transformID string) (*UserTimers, error) {
	payload, err := env.Payload(uniqueName)
	if err != nil {
		return nil, err
	}
	var pd pipepb.ParDoPayload
	if err := proto.Unmarshal(payload, &pd); err != nil {
		return nil, fmt.Errorf("sluice native: %s: decoding its ParDo payload: %w", uniqueName, err)
	}
	u := &UserTimers{transform: transformID, families: map[string]*timerFamily{}}
	for id, spec := range pd.GetTimerFamilySpecs() {
		c, err := env.Coder(spec.GetTimerFamilyCoderId())
		if err != nil {
			return nil, fmt.Errorf("sluice native: %s: timer family %q: %w", uniqueName, id, err)
		}
		if c.Kind != coder.Timer || len(c.Components) != 1 || c.Window == nil {
			return nil, fmt.Errorf("sluice native: %s: timer family %q has coder %v, want a timer coder", uniqueName, id, c)
		}
		u.families[id] = &timerFamily{
			domain: timers.TimeDomain(spec.GetTimeDomain()),
			keyEnc: exec.MakeElementEncoder(c.Components[0]), keyDec: exec.MakeElementDecoder(c.Components[0]),
			winEnc: exec.MakeWindowEncoder(c.Window), winDec: exec.MakeWindowDecoder(c.Window),
		}
		u.ids = append(u.ids, id)
	}
	sort.Strings(u.ids)
	return u, nil
}

// Bundle starts the timers' use in a bundle.
func (u *UserTimers) Bundle() *UserTimersBundle { return &UserTimersBundle{u: u} }

// UserTimersBundle is a ParDo's timers in one bundle: exec's userTimerAdapter, ported.
// The timers set are kept per key and window, the last set of each family and tag
// winning, and go out at the end of the bundle; timers the runner fires are run in its
// order, a timer set in the bundle that fires no later than one the runner sent running
// before it (ProcessTimers).
type UserTimersBundle struct {
	u             *UserTimers
	modifications map[windowKeyPair]*timerModifications

	currentKey       any
	keyEncoded       bool
	buf              bytes.Buffer
	currentKeyString string
}

// SetCurrentKey is the key of the element being processed (the SDK's SetCurrentKey).
func (b *UserTimersBundle) SetCurrentKey(key any) {
	b.currentKey = key
	b.keyEncoded = false
}

func (b *UserTimersBundle) keyStringAndDomain(family string) (string, timers.TimeDomain, error) {
	f, ok := b.u.families[family]
	if !ok {
		return "", 0, fmt.Errorf("sluice native: no timer family %q in the ParDo's payload", family)
	}
	if b.keyEncoded {
		return b.currentKeyString, f.domain, nil
	}
	b.buf.Reset()
	if err := f.keyEnc.Encode(&exec.FullValue{Elm: b.currentKey}, &b.buf); err != nil {
		return "", 0, fmt.Errorf("sluice native: encoding the timer key %v: %w", b.currentKey, err)
	}
	b.currentKeyString = b.buf.String()
	b.keyEncoded = true
	return b.currentKeyString, f.domain, nil
}

func (b *UserTimersBundle) modificationsOf(k windowKeyPair) *timerModifications {
	if b.modifications == nil {
		b.modifications = map[windowKeyPair]*timerModifications{}
	}
	m, ok := b.modifications[k]
	if !ok {
		m = &timerModifications{modified: map[timerKey]sortableTimer{}}
		b.modifications[k] = m
	}
	return m
}

// Provider is the timers.Provider of one call of the DoFn on an element in windows ws
// with pane pane (header h): a timer set goes to each window. A timer the SDK could not
// encode the key of panics there; here it fails the bundle through Err.
func (b *UserTimersBundle) Provider(h Header) *TimerProvider {
	return &TimerProvider{b: b, windows: typexWindows(h.Windows), pane: typexPane(h.Pane)}
}

// TimerProvider implements timers.Provider.
type TimerProvider struct {
	b       *UserTimersBundle
	windows []typex.Window
	pane    typex.PaneInfo
	err     error
}

var _ timers.Provider = (*TimerProvider)(nil)

// Set sets (or clears) a timer in each window of the call.
func (p *TimerProvider) Set(t timers.TimerMap) {
	k, domain, err := p.b.keyStringAndDomain(t.Family)
	if err != nil {
		if p.err == nil {
			p.err = err
		}
		return
	}
	for _, w := range p.windows {
		p.b.modificationsOf(windowKeyPair{w, k}).insert(sortableTimer{Domain: domain, TimerMap: t, Pane: p.pane})
	}
}

// Err is the first error a Set met (the SDK panics on it).
func (p *TimerProvider) Err() error { return p.err }

// Flush encodes the timers set in the bundle, per family (every family of the ParDo,
// those with none too), and forgets them.
func (b *UserTimersBundle) Flush() ([]TimerOutput, error) {
	byFamily := map[string]*bytes.Buffer{}
	for _, id := range b.u.ids {
		byFamily[id] = &bytes.Buffer{}
	}
	for wk, mods := range b.modifications {
		for id, t := range mods.modified {
			buf := byFamily[id.family]
			if buf == nil {
				return nil, fmt.Errorf("sluice native: a timer of family %q, which the ParDo does not declare", id.family)
			}
			buf.WriteString(wk.key)
			if err := encodeTimerSuffix(b.u.families[id.family].winEnc, t, wk.window, buf); err != nil {
				return nil, fmt.Errorf("sluice native: timer family %q, tag %q: %w", t.Family, t.Tag, err)
			}
		}
	}
	b.modifications = nil
	b.currentKey, b.currentKeyString, b.keyEncoded = nil, "", false
	out := make([]TimerOutput, len(b.u.ids))
	for i, id := range b.u.ids {
		out[i] = TimerOutput{TransformID: b.u.transform, Family: id, Data: byFamily[id].Bytes()}
	}
	return out, nil
}

// encodeTimerSuffix writes a timer after its key, as exec's encodeTimerSuffix: tag,
// window, clear bit, then for a set timer its fire and hold times and pane.
func encodeTimerSuffix(win exec.WindowEncoder, t sortableTimer, w typex.Window, buf *bytes.Buffer) error {
	if err := coder.EncodeStringUTF8(t.Tag, buf); err != nil {
		return err
	}
	if err := win.Encode([]typex.Window{w}, buf); err != nil {
		return err
	}
	if err := coder.EncodeBool(t.Clear, buf); err != nil {
		return err
	}
	if t.Clear {
		return nil
	}
	if err := coder.EncodeEventTime(t.FireTimestamp, buf); err != nil {
		return err
	}
	if err := coder.EncodeEventTime(t.HoldTimestamp, buf); err != nil {
		return err
	}
	return coder.EncodePane(t.Pane, buf)
}

// typexWindows are the element's windows as the SDK's values.
func typexWindows(ws Windows) []typex.Window {
	if ws == GlobalWindow {
		return []typex.Window{window.GlobalWindow{}}
	}
	var out []typex.Window
	for _, w := range ws.Intervals() {
		out = append(out, window.IntervalWindow{Start: mtime.Time(w.Start), End: mtime.Time(w.End)})
	}
	return out
}

// windowsOf is a window of the SDK as Windows.
func windowsOf(w typex.Window) (Windows, error) {
	switch w := w.(type) {
	case window.GlobalWindow:
		return GlobalWindow, nil
	case window.IntervalWindow:
		return IntervalWindows(wire.IntervalWindow{Start: int64(w.Start), End: int64(w.End)}), nil
	}
	return "", fmt.Errorf("sluice native: a timer in a %T window", w)
}

func typexPane(p wire.PaneInfo) typex.PaneInfo {
	return typex.PaneInfo{Timing: typex.PaneTiming(p.Timing), IsFirst: p.IsFirst, IsLast: p.IsLast, Index: p.Index, NonSpeculativeIndex: p.NonSpeculativeIndex}
}

func wirePane(p typex.PaneInfo) wire.PaneInfo {
	return wire.PaneInfo{Timing: wire.PaneTiming(p.Timing), IsFirst: p.IsFirst, IsLast: p.IsLast, Index: p.Index, NonSpeculativeIndex: p.NonSpeculativeIndex}
}
