// Command nativestate is a sluicegen test pipeline whose stateful ParDos keep user state
// of every kind native chains cover: value, bag (cleared now and then), combining (a
// merge function and a CombineFn with its own accumulator), map, set and ordered list
// state, in the global window, and value state per key and fixed window. Each element's
// results are
// lines that do not depend on the order a key's elements arrive in, appended to --output
// (the native harness's end-to-end test compares them native and portable).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/state"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	events = flag.Int("events", 200, "how many events to make")
	output = flag.String("output", "", "file to append the result lines to")
)

var vocabulary = strings.Fields("alpha beta gamma delta epsilon zeta eta theta iota kappa")

// makeEventsFn emits Events (user, word) pairs, each at its own event time.
type makeEventsFn struct {
	Events int
}

func (f *makeEventsFn) ProcessElement(_ []byte, emit func(beam.EventTime, string, string)) {
	for i := 0; i < f.Events; i++ {
		user := fmt.Sprintf("user%d", i%7)
		emit(beam.EventTime(int64(i)*1000), user, vocabulary[(i*3+i/5)%len(vocabulary)])
	}
}

func add(a, b int) int { return a + b }

// lengthsFn averages word lengths with an accumulator of its own.
type lengthsFn struct{}

type lengthsAcc struct {
	Sum, N int
}

func (lengthsFn) CreateAccumulator() lengthsAcc { return lengthsAcc{} }
func (lengthsFn) AddInput(a lengthsAcc, w string) lengthsAcc {
	return lengthsAcc{Sum: a.Sum + len(w), N: a.N + 1}
}
func (lengthsFn) MergeAccumulators(a, b lengthsAcc) lengthsAcc {
	return lengthsAcc{Sum: a.Sum + b.Sum, N: a.N + b.N}
}
func (lengthsFn) ExtractOutput(a lengthsAcc) string { return fmt.Sprintf("%d/%d", a.Sum, a.N) }

// tallyFn keeps every kind of state per user; each line it emits is about one kind.
type tallyFn struct {
	Count   state.Value[int]
	Recent  state.Bag[string]
	Total   state.Combining[int, int, int]
	Lengths state.Combining[lengthsAcc, string, string]
	Words   state.Map[string, int]
	Seen    state.Set[string]
}

func (f *tallyFn) ProcessElement(sp state.Provider, user, word string, emit func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	if err := f.Count.Write(sp, n+1); err != nil {
		return err
	}
	again, ok, err := f.Count.Read(sp) // read after write, in the same call
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s count %d %v", user, again, ok))

	if err := f.Recent.Add(sp, word); err != nil {
		return err
	}
	if again%5 == 0 {
		if err := f.Recent.Clear(sp); err != nil {
			return err
		}
	}
	recent, _, err := f.Recent.Read(sp)
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s recent %d", user, len(recent)))

	if err := f.Total.Add(sp, len(user)); err != nil {
		return err
	}
	total, _, err := f.Total.Read(sp)
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s total %d", user, total))
	if err := f.Lengths.Add(sp, user); err != nil {
		return err
	}
	lengths, _, err := f.Lengths.Read(sp)
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s lengths %s", user, lengths))

	m, _, err := f.Words.Get(sp, word)
	if err != nil {
		return err
	}
	if err := f.Words.Put(sp, word, m+1); err != nil {
		return err
	}
	m2, _, err := f.Words.Get(sp, word)
	if err != nil {
		return err
	}
	emit(fmt.Sprintf("%s word %s %d %d", user, word, m+1, m2))

	seen, err := f.Seen.Contains(sp, word)
	if err != nil {
		return err
	}
	if err := f.Seen.Add(sp, word); err != nil {
		return err
	}
	emit(fmt.Sprintf("%s seen %s %v", user, word, seen))
	return nil
}

// orderFn keeps each user's (event time, word) in an ordered list; at the user's last
// element (by count, so whatever the order of arrival) it reports the list's first
// entries by event time, clears them and reports what is left.
type orderFn struct {
	Events  int
	Count   state.Value[int]
	Pending state.OrderedList[string]
}

// firstMillis is the range of sort keys (event times, in milliseconds) orderFn reports
// and then clears: [0, firstMillis).
const firstMillis = 60_000

func (f *orderFn) ProcessElement(ts beam.EventTime, sp state.Provider, user, word string, emit func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	if err := f.Count.Write(sp, n+1); err != nil {
		return err
	}
	if n+1 < f.perUser(user) {
		return f.Pending.Add(sp, int64(ts), word)
	}
	// Read before the add: an add before the call's first read would show twice (the
	// SDK's provider reads what the runner has and replays the call's writes).
	before, _, err := f.Pending.Read(sp)
	if err != nil {
		return err
	}
	if err := f.Pending.Add(sp, int64(ts), word); err != nil {
		return err
	}
	first, _, err := f.Pending.ReadRange(sp, 0, firstMillis)
	if err != nil {
		return err
	}
	var b strings.Builder
	for _, e := range first {
		fmt.Fprintf(&b, " %d:%s", e.SortKey/1000, e.Value)
	}
	emit(fmt.Sprintf("%s order %d before, first%s", user, len(before), b.String()))
	if err := f.Pending.ClearRange(sp, 0, firstMillis); err != nil {
		return err
	}
	rest, ok, err := f.Pending.Read(sp)
	if err != nil {
		return err
	}
	if !ok {
		emit(fmt.Sprintf("%s order none left", user))
		return nil
	}
	emit(fmt.Sprintf("%s order %d left, from %d to %d", user, len(rest), rest[0].SortKey/1000, rest[len(rest)-1].SortKey/1000))
	return nil
}

// perUser is how many of the events makeEventsFn makes are user's.
func (f *orderFn) perUser(user string) int {
	var u int
	fmt.Sscanf(user, "user%d", &u)
	return (f.Events - u + 6) / 7
}

// windowCountFn counts a user's events per window in value state.
type windowCountFn struct {
	Count state.Value[int64]
}

func (f *windowCountFn) ProcessElement(w beam.Window, sp state.Provider, user, _ string, emit func(string)) error {
	n, _, err := f.Count.Read(sp)
	if err != nil {
		return err
	}
	if err := f.Count.Write(sp, n+1); err != nil {
		return err
	}
	emit(fmt.Sprintf("%s window %v count %d", user, w.MaxTimestamp(), n+1))
	return nil
}

var out struct {
	sync.Mutex
	f *os.File
}

// writeLine appends a line to --output.
func writeLine(line string) error {
	out.Lock()
	defer out.Unlock()
	if out.f == nil {
		path := *output
		if path == "" {
			path = beam.PipelineOptions.Get("output")
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		out.f = f
	}
	_, err := fmt.Fprintln(out.f, line)
	return err
}

func init() {
	register.DoFn2x0[[]byte, func(beam.EventTime, string, string)](&makeEventsFn{})
	register.Function2x1(add)
	register.Combiner3[lengthsAcc, string, string](&lengthsFn{})
	register.DoFn4x1[state.Provider, string, string, func(string), error](&tallyFn{})
	register.DoFn5x1[beam.Window, state.Provider, string, string, func(string), error](&windowCountFn{})
	register.DoFn5x1[beam.EventTime, state.Provider, string, string, func(string), error](&orderFn{})
	register.Function1x1(writeLine)
	register.Emitter1[string]()
	register.Emitter3[beam.EventTime, string, string]()
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	evs := beam.ParDo(s.Scope("Events"), &makeEventsFn{Events: *events}, beam.Impulse(s))
	tally := beam.ParDo(s.Scope("Tally"), &tallyFn{
		Count:   state.MakeValueState[int]("count"),
		Recent:  state.MakeBagState[string]("recent"),
		Total:   state.MakeCombiningState[int, int, int]("total", add),
		Lengths: state.MakeCombiningState[lengthsAcc, string, string]("lengths", &lengthsFn{}),
		Words:   state.MakeMapState[string, int]("words"),
		Seen:    state.MakeSetState[string]("seen"),
	}, evs)
	order := beam.ParDo(s.Scope("Order"), &orderFn{
		Events:  *events,
		Count:   state.MakeValueState[int]("count"),
		Pending: state.MakeOrderedListState[string]("pending"),
	}, evs)
	windowed := beam.WindowInto(s.Scope("Window"), window.NewFixedWindows(10*time.Second), evs)
	counts := beam.ParDo(s.Scope("WindowCount"), &windowCountFn{Count: state.MakeValueState[int64]("count")}, windowed)
	beam.ParDo0(s.Scope("Write"), writeLine, tally)
	beam.ParDo0(s.Scope("WriteWindows"), writeLine, counts)
	beam.ParDo0(s.Scope("WriteOrder"), writeLine, order)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativestate:", err)
		os.Exit(1)
	}
}
