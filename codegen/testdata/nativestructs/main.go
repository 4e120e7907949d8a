// Command nativestructs is a sluicegen test pipeline every SDK stage of which runs
// natively with struct DoFns: makeLinesFn (a pointer, configured with a line count and
// words, with every lifecycle method, emitting from StartBundle, ProcessElement and
// FinishBundle), formatFn (a value struct configured with a format) and beam.Create's
// createFn (a struct of package beam the generated file cannot name). The sinks keep what
// they see and the DoFns log their lifecycle, so that a test running the generated chains
// can check both.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"sync"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"
)

var (
	numLines = flag.Int("lines", 4, "how many lines makeLinesFn makes")
	words    = flag.String("words", "alpha beta gamma", "the words makeLinesFn makes lines of")
)

// makeLinesFn makes Lines lines of Words, one more word each line (cycling through
// Words); StartBundle emits Header and FinishBundle Trailer, when they are set.
type makeLinesFn struct {
	Lines   int
	Words   []string
	Header  string
	Trailer string

	id int // which instance, for the lifecycle log: not configuration
}

func (f *makeLinesFn) Setup() error {
	f.id = logEvent(0, "setup")
	return nil
}

func (f *makeLinesFn) StartBundle(ctx context.Context, emit func(string)) error {
	if ctx == nil {
		return fmt.Errorf("StartBundle without a context")
	}
	logEvent(f.id, "start")
	if f.Header != "" {
		emit(f.Header)
	}
	return nil
}

func (f *makeLinesFn) ProcessElement(_ []byte, emit func(string)) error {
	logEvent(f.id, "process")
	if len(f.Words) == 0 {
		return fmt.Errorf("makeLinesFn has no words")
	}
	for i := range f.Lines {
		var ws []string
		for j := 0; j <= i; j++ {
			ws = append(ws, f.Words[(i+j)%len(f.Words)])
		}
		emit(strings.Join(ws, " "))
	}
	return nil
}

func (f *makeLinesFn) FinishBundle(emit func(string)) {
	logEvent(f.id, "finish")
	if f.Trailer != "" {
		emit(f.Trailer)
	}
}

func (f *makeLinesFn) Teardown(ctx context.Context) error {
	logEvent(f.id, "teardown")
	return nil
}

func splitWords(line string, emit func(string)) {
	for _, w := range strings.Fields(line) {
		emit(w)
	}
}

// formatFn formats a count with its Format; the pipeline passes it as a value.
type formatFn struct {
	Format string
}

func (f formatFn) ProcessElement(word string, count int) string {
	return fmt.Sprintf(f.Format, word, count)
}

// events is the DoFns' lifecycle log, "<instance> <event>", and seen what the sinks were
// given: a test's window on the chains.
var events struct {
	sync.Mutex
	next int
	log  []string
	seen []string
}

// logEvent logs event for instance id (a new instance when id is 0) and returns the id.
func logEvent(id int, event string) int {
	events.Lock()
	defer events.Unlock()
	if id == 0 {
		events.next++
		id = events.next
	}
	events.log = append(events.log, fmt.Sprintf("%d %s", id, event))
	return id
}

func collect(line string) {
	events.Lock()
	defer events.Unlock()
	events.seen = append(events.seen, line)
}

func init() {
	register.DoFn2x1[[]byte, func(string), error](&makeLinesFn{})
	register.DoFn2x1[string, int, string](&formatFn{})
	register.Function2x0(splitWords)
	register.Function1x0(collect)
	register.Emitter1[string]()
}

// config is makeLinesFn's configuration from the flags.
func config() *makeLinesFn {
	return &makeLinesFn{Lines: *numLines, Words: strings.Fields(*words), Header: "header", Trailer: "trailer"}
}

// build adds the pipeline to s: tests build it too, with other configurations.
func build(s beam.Scope, lines *makeLinesFn, format string, extra ...any) {
	text := beam.ParDo(s.Scope("Lines"), lines, beam.Impulse(s))
	counts := stats.Count(s.Scope("Count"), beam.ParDo(s.Scope("Split"), splitWords, text))
	beam.ParDo0(s.Scope("Collect"), collect, beam.ParDo(s.Scope("Format"), formatFn{Format: format}, counts))
	beam.ParDo0(s.Scope("CollectExtra"), collect, beam.Create(s.Scope("Extra"), extra...))
}

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	build(s, config(), "%s=%d", "x", "y")
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintln(os.Stderr, "nativestructs:", err)
		os.Exit(1)
	}
}
