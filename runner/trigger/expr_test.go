package trigger

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"
)

// parseTrigger reads a trigger written the way Machine.String renders one, so that the
// test scripts can say "Repeat(AfterCount(2))" where Go code would build a proto.
// Names are case-insensitive. To let scripts exercise New's errors it accepts what New
// refuses: AfterCount(0), AfterAll(), Repeat(), OrFinally(Always), negative delays, and
// two extra names, Unset (a Trigger with no kind set) and nil.
//
//	trigger  := name [ "(" [ arg { "," arg } ] ")" ]
//	arg      := trigger | number | key "=" ( trigger | dur [ "@" dur ] )
//	dur      := a Go duration ("5s", "1m0s") or milliseconds ("250")
func parseTrigger(s string) (*pipepb.Trigger, error) {
	p := &exprParser{toks: tokenize(s)}
	t, err := p.trigger()
	if err != nil {
		return nil, err
	}
	if p.pos != len(p.toks) {
		return nil, fmt.Errorf("unexpected %q after the trigger", p.toks[p.pos])
	}
	return t, nil
}

func tokenize(s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		c := rune(s[i])
		switch {
		case unicode.IsSpace(c):
			i++
		case strings.ContainsRune("(),=@", c):
			toks = append(toks, s[i:i+1])
			i++
		default:
			j := i + 1
			for j < len(s) && !unicode.IsSpace(rune(s[j])) && !strings.ContainsRune("(),=@", rune(s[j])) {
				j++
			}
			toks = append(toks, s[i:j])
			i = j
		}
	}
	return toks
}

type exprParser struct {
	toks []string
	pos  int
}

func (p *exprParser) peek() string {
	if p.pos < len(p.toks) {
		return p.toks[p.pos]
	}
	return ""
}

func (p *exprParser) next() string {
	t := p.peek()
	p.pos++
	return t
}

func (p *exprParser) expect(tok string) error {
	if got := p.next(); got != tok {
		return fmt.Errorf("want %q, got %q", tok, got)
	}
	return nil
}

// list parses an optional parenthesised, comma-separated list, calling item for each
// element.
func (p *exprParser) list(item func() error) error {
	if p.peek() != "(" {
		return nil
	}
	p.next()
	if p.peek() == ")" {
		p.next()
		return nil
	}
	for {
		if err := item(); err != nil {
			return err
		}
		switch tok := p.next(); tok {
		case ")":
			return nil
		case ",":
		default:
			return fmt.Errorf("want \",\" or \")\", got %q", tok)
		}
	}
}

func (p *exprParser) triggers() ([]*pipepb.Trigger, error) {
	var ts []*pipepb.Trigger
	err := p.list(func() error {
		t, err := p.trigger()
		ts = append(ts, t)
		return err
	})
	return ts, err
}

// keyed parses "(key=..., ...)", calling item with each key, positioned on its value.
func (p *exprParser) keyed(item func(key string) error) error {
	return p.list(func() error {
		key := strings.ToLower(p.next())
		if err := p.expect("="); err != nil {
			return err
		}
		return item(key)
	})
}

func (p *exprParser) trigger() (*pipepb.Trigger, error) {
	name := p.next()
	switch strings.ToLower(name) {
	case "nil":
		return nil, nil
	case "unset":
		return &pipepb.Trigger{}, nil
	case "default":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_Default_{Default: &pipepb.Trigger_Default{}}}, nil
	case "always":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_Always_{Always: &pipepb.Trigger_Always{}}}, nil
	case "never":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_Never_{Never: &pipepb.Trigger_Never{}}}, nil
	case "aftersynchronizedprocessingtime":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterSynchronizedProcessingTime_{
			AfterSynchronizedProcessingTime: &pipepb.Trigger_AfterSynchronizedProcessingTime{}}}, nil
	case "aftercount":
		var n int64
		err := p.list(func() (err error) {
			n, err = strconv.ParseInt(p.next(), 10, 32)
			return err
		})
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_ElementCount_{
			ElementCount: &pipepb.Trigger_ElementCount{ElementCount: int32(n)}}}, err
	case "afterendofwindow":
		eow := &pipepb.Trigger_AfterEndOfWindow{}
		err := p.keyed(func(key string) error {
			t, err := p.trigger()
			switch key {
			case "early":
				eow.EarlyFirings = t
			case "late":
				eow.LateFirings = t
			default:
				return fmt.Errorf("AfterEndOfWindow has no %q", key)
			}
			return err
		})
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterEndOfWindow_{AfterEndOfWindow: eow}}, err
	case "afterprocessingtime":
		apt := &pipepb.Trigger_AfterProcessingTime{}
		err := p.keyed(func(key string) error {
			v, err := parseMillis(p.next())
			if err != nil {
				return err
			}
			var tt *pipepb.TimestampTransform
			switch key {
			case "delay":
				tt = &pipepb.TimestampTransform{TimestampTransform: &pipepb.TimestampTransform_Delay_{
					Delay: &pipepb.TimestampTransform_Delay{DelayMillis: v}}}
			case "alignto":
				var off int64
				if p.peek() == "@" {
					p.next()
					if off, err = parseMillis(p.next()); err != nil {
						return err
					}
				}
				tt = &pipepb.TimestampTransform{TimestampTransform: &pipepb.TimestampTransform_AlignTo_{
					AlignTo: &pipepb.TimestampTransform_AlignTo{Period: v, Offset: off}}}
			case "unset":
				tt = &pipepb.TimestampTransform{}
			default:
				return fmt.Errorf("AfterProcessingTime has no %q", key)
			}
			apt.TimestampTransforms = append(apt.TimestampTransforms, tt)
			return nil
		})
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterProcessingTime_{AfterProcessingTime: apt}}, err
	}
	ts, err := p.triggers()
	if err != nil {
		return nil, err
	}
	at := func(k int) *pipepb.Trigger {
		if k < len(ts) {
			return ts[k]
		}
		return nil
	}
	switch strings.ToLower(name) {
	case "afterall":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterAll_{AfterAll: &pipepb.Trigger_AfterAll{Subtriggers: ts}}}, nil
	case "afterany":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterAny_{AfterAny: &pipepb.Trigger_AfterAny{Subtriggers: ts}}}, nil
	case "aftereach":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_AfterEach_{AfterEach: &pipepb.Trigger_AfterEach{Subtriggers: ts}}}, nil
	case "repeat":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_Repeat_{Repeat: &pipepb.Trigger_Repeat{Subtrigger: at(0)}}}, nil
	case "orfinally":
		return &pipepb.Trigger{Trigger: &pipepb.Trigger_OrFinally_{
			OrFinally: &pipepb.Trigger_OrFinally{Main: at(0), Finally: at(1)}}}, nil
	}
	return nil, fmt.Errorf("unknown trigger %q", name)
}

// parseMillis reads a duration as Machine.String writes one: a Go duration, or a
// number of milliseconds (with or without "ms", for values past a Duration's range).
func parseMillis(s string) (int64, error) {
	if v, err := strconv.ParseInt(strings.TrimSuffix(s, "ms"), 10, 64); err == nil {
		return v, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Milliseconds(), nil
}
