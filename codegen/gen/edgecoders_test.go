package gen

import (
	"strings"
	"testing"

	pipepb "github.com/apache/beam/sdks/v2/go/pkg/beam/model/pipeline_v1"

	"github.com/sluice-runner/sluice/codegen/capture"
	"github.com/sluice-runner/sluice/runner/wire"
)

func wireCoders() *pipepb.Components {
	c := func(urn string, comps ...string) *pipepb.Coder {
		return &pipepb.Coder{Spec: &pipepb.FunctionSpec{Urn: urn}, ComponentCoderIds: comps}
	}
	return &pipepb.Components{Coders: map[string]*pipepb.Coder{
		"str":      c("beam:coder:string_utf8:v1"),
		"bytes":    c("beam:coder:bytes:v1"),
		"custom":   c(urnGoCustom),
		"lp":       c(wire.URNLengthPrefix, "custom"),
		"lpstr":    c(wire.URNLengthPrefix, "str"),
		"iter":     c(wire.URNIterable, "lp"),
		"kv":       c(wire.URNKV, "str", "lp"),
		"kvgroup":  c(wire.URNKV, "str", "iter"),
		"kvlpstr":  c(wire.URNKV, "lpstr", "lp"),
		"gw":       c(wire.URNGlobalWindow),
		"iw":       c("beam:coder:interval_window:v1"),
		"wv":       c(wire.URNWindowedValue, "kv", "gw"),
		"wvgroup":  c(wire.URNWindowedValue, "kvgroup", "gw"),
		"wvlpstr":  c(wire.URNWindowedValue, "kvlpstr", "gw"),
		"wvbytes":  c(wire.URNWindowedValue, "bytes", "gw"),
		"wvwindow": c(wire.URNWindowedValue, "kv", "iw"),
		"cw":       c(wire.URNCustomWindow, "bytes"),
		"wvcustom": c(wire.URNWindowedValue, "kv", "cw"),
	}}
}

func TestEdgeCoderMatchesTheWire(t *testing.T) {
	str := capture.Value{Kind: capture.ValueString, Type: "string"}
	count := capture.Value{Kind: capture.ValueVarIntZ, Type: "int"}
	kv := &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{str, count}}
	group := &capture.Value{Kind: capture.ValueKV, Components: []capture.Value{str, {Kind: capture.ValueIterable, Components: []capture.Value{count}}}}
	comps := wireCoders()
	for _, c := range []struct {
		name, wire string
		value      *capture.Value
		why        string // "" when a typed coder is made
	}{
		{"kv", "wv", kv, ""},
		{"grouped", "wvgroup", group, ""},
		{"bytes", "wvbytes", &capture.Value{Kind: capture.ValueBytes, Type: "[]uint8"}, ""},
		{"no Go type", "wv", nil, "no Go type"},
		{"interval windows", "wvwindow", kv, ""}, // the header is rt's, the value the same
		{"custom windows", "wvcustom", kv, "window coder beam:coder:custom_window:v1"},
		{"string as bytes", "wvbytes", &str, "a string value travels as beam:coder:bytes:v1"},
		// The runner length-prefixes a string only when it does not know the coder, which
		// changes the bytes: refused rather than guessed.
		{"prefixed string", "wvlpstr", kv, "a string value travels as beam:coder:length_prefix:v1"},
		{"opaque", "wvbytes", &capture.Value{Kind: capture.ValueOpaque, Pkg: "main", Type: "point"}, "kind opaque (point)"},
		{"kv against a group", "wvgroup", kv, "iterable"},
	} {
		ec, why := edgeCoder(comps, c.wire, c.value, "X")
		switch {
		case c.why == "" && ec == nil:
			t.Errorf("%s: no typed coder: %s", c.name, why)
		case c.why != "" && (ec != nil || !strings.Contains(why, c.why)):
			t.Errorf("%s: coder %v, why %q; want none because %q", c.name, ec, why, c.why)
		}
	}
}
