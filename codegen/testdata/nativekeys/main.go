// Command nativekeys is a sluicegen test pipeline of lifted combines on keys the SDK's
// lifted combine tells apart by their encoding where Go equality may disagree: stats.Count
// over float32 values (the SDK's custom float coder: -0 and +0 are == but encode apart,
// NaN != NaN but encodes the same), stats.SumPerKey over a struct key coded by the SDK's
// row coder, a CombinePerKey over a key of a custom coder that encodes only part of it
// (keys the coder codes the same are one key), a struct key of package zone the generated
// file cannot name, and the struct key again in fixed windows.
// Every branch appends its lines to --output, so that an end-to-end test can compare a
// native run with a portable one. With --doubles it also counts the float64 values, which
// the Go SDK's lifted combine fails on (it has no hasher for the double coder).
package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"reflect"
	"strings"
	"sync"
	"time"

	"github.com/apache/beam/sdks/v2/go/pkg/beam"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/window"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/register"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/transforms/stats"
	"github.com/apache/beam/sdks/v2/go/pkg/beam/x/beamx"

	"github.com/sluice-runner/sluice/codegen/testdata/nativekeys/internal/zone"
)

var (
	events  = flag.Int("events", 300, "how many events to make")
	output  = flag.String("output", "", "file to append the result lines to (required to run)")
	doubles = flag.Bool("doubles", false, "also count the float64 values (the Go SDK fails)")
)

// Region is a struct key: the SDK codes it with its row coder.
type Region struct {
	Country, City string
}

// Tag is a key with a custom coder that codes only its Name in lower case: tags that
// differ in Note or in case are one key to the SDK.
type Tag struct {
	Name, Note string
}

func encodeTag(t Tag) []byte { return []byte(strings.ToLower(t.Name)) }

func decodeTag(b []byte) Tag { return Tag{Name: string(b), Note: "decoded"} }

func init() {
	register.DoFn2x0[[]byte, func(beam.EventTime, float64)](&makeValuesFn{})
	register.Function2x2(regionOf)
	register.Function1x2(tagOf)
	register.Function1x1(toFloat32)
	register.Function2x1(formatValueCount)
	register.Function2x1(formatFloat32Count)
	register.Function2x1(formatRegion)
	register.Function2x1(formatTag)
	register.Function3x1(formatWindowed)
	register.Function1x1(writeLine)
	register.Function2x1(sumInts)
	register.Emitter2[beam.EventTime, float64]()
	beam.RegisterType(reflect.TypeOf(Region{}))
	beam.RegisterType(reflect.TypeOf(Tag{}))
	beam.RegisterCoder(reflect.TypeOf(Tag{}), encodeTag, decodeTag)
}

// specials are values whose encodings and Go equality disagree, and one that is plain.
var specials = []float64{math.Copysign(0, -1), 0, math.Float64frombits(0x7ff8000000000000), math.Float64frombits(0x7ff8000000000001), 1.5}

// makeValuesFn emits Events values, each at an event time spread over about ten seconds:
// the specials over and over, with a few other values.
type makeValuesFn struct {
	Events int
}

func (f *makeValuesFn) ProcessElement(_ []byte, emit func(beam.EventTime, float64)) {
	for i := 0; i < f.Events; i++ {
		ms := int64(i*i*7919) % 10_000
		v := specials[i%len(specials)]
		if i%7 == 0 {
			v = float64(i % 3)
		}
		emit(beam.EventTime(ms), v)
	}
}

var places = []Region{{"fr", "paris"}, {"fr", "lyon"}, {"jp", "osaka"}, {"fr", "paris"}, {"", ""}}

// regionOf keys a value by a region chosen from it and the event time.
func regionOf(et beam.EventTime, v float64) (Region, int) {
	return places[int(et/3)%len(places)], int(et) % 10
}

var tags = []string{"Red", "red", "RED", "blue", "Blue"}

// tagOf keys a value by a tag whose Note (which the coder drops) tells which value made it.
func tagOf(v float64) (Tag, int) {
	i := int(math.Float64bits(v) % uint64(len(tags)))
	return Tag{Name: tags[i], Note: fmt.Sprintf("%x", math.Float64bits(v))}, 1
}

func sumInts(a, b int) int { return a + b }

// toFloat32 converts v, keeping the NaNs apart: a conversion drops the payload bit that
// tells them apart as float64s.
func toFloat32(v float64) float32 {
	if math.IsNaN(v) && math.Float64bits(v)&1 == 1 {
		return math.Float32frombits(0x7fc00001)
	}
	return float32(v)
}

// formatFloat32Count prints a value's bits, so that -0 and the NaNs are told apart.
func formatFloat32Count(v float32, n int) string {
	return fmt.Sprintf("float32 %v (%08x): %d", v, math.Float32bits(v), n)
}

// formatValueCount prints a value's bits, so that -0 and the NaNs are told apart.
func formatValueCount(v float64, n int) string {
	return fmt.Sprintf("value %v (%016x): %d", v, math.Float64bits(v), n)
}

func formatRegion(r Region, n int) string {
	return fmt.Sprintf("region %q/%q: %d", r.Country, r.City, n)
}

// formatTag prints the key as the combine emitted it: with the Note of a key's latest
// element when the key stays in memory, decoded when it crossed a coder.
func formatTag(t Tag, n int) string { return fmt.Sprintf("tag %s (%s): %d", t.Name, t.Note, n) }

func formatWindowed(w beam.Window, r Region, n int) string {
	return fmt.Sprintf("%v region %q/%q: %d", w, r.Country, r.City, n)
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

func main() {
	flag.Parse()
	beam.Init()
	p, s := beam.NewPipelineWithRoot()
	build(s, *events)
	if err := beamx.Run(context.Background(), p); err != nil {
		fmt.Fprintf(os.Stderr, "nativekeys: %v\n", err)
		os.Exit(1)
	}
}

// build adds the pipeline to s: n values counted by value (as float32, and as float64
// with --doubles), summed per region (globally
// and in fixed windows), per tag and per zone, written.
func build(s beam.Scope, n int) {
	values := beam.ParDo(s.Scope("Values"), &makeValuesFn{Events: n}, beam.Impulse(s))
	write := func(name string, lines beam.PCollection) {
		beam.ParDo0(s.Scope("Write"+name), writeLine, lines)
	}

	float32s := stats.Count(s.Scope("CountFloat32s"), beam.ParDo(s.Scope("Float32s"), toFloat32, values))
	write("Float32s", beam.ParDo(s.Scope("FormatFloat32s"), formatFloat32Count, float32s))
	if *doubles {
		counts := stats.Count(s.Scope("CountValues"), values)
		write("Values", beam.ParDo(s.Scope("FormatValues"), formatValueCount, counts))
	}

	regions := beam.ParDo(s.Scope("Regions"), regionOf, values)
	write("Regions", beam.ParDo(s.Scope("FormatRegions"), formatRegion, stats.SumPerKey(s.Scope("SumRegions"), regions)))

	tagged := beam.ParDo(s.Scope("Tags"), tagOf, values)
	write("Tags", beam.ParDo(s.Scope("FormatTags"), formatTag, beam.CombinePerKey(s.Scope("SumTags"), sumInts, tagged)))

	zones := stats.SumPerKey(s.Scope("SumZones"), beam.ParDo(s.Scope("Zones"), zone.Of, values))
	write("Zones", beam.ParDo(s.Scope("FormatZones"), zone.Format, zones))

	fixed := beam.WindowInto(s.Scope("Fixed"), window.NewFixedWindows(2*time.Second), regions)
	write("Windowed", beam.ParDo(s.Scope("FormatWindowed"), formatWindowed, stats.SumPerKey(s.Scope("SumWindowed"), fixed)))
}
