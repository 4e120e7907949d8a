package gen

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// Paths of SDK packages whose types user signatures name.
const (
	typexPath = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/typex"
	mtimePath = "github.com/apache/beam/sdks/v2/go/pkg/beam/core/graph/mtime"
)

// goTyp is a Go type as the capture writes it (capture.TypeString), parsed back so that
// the generator can spell it: the declared types of a user function's signature.
type goTyp struct {
	str string // as capture.TypeString writes it
	// pkg and name of a named type (pkg empty for a predeclared one).
	pkg, name string
	// elem of a slice or pointer; kind says which.
	kind string // "named", "slice", "ptr", "map", "func", "any"
	elem *goTyp
	key  *goTyp // of a map
	// params and results of a func type.
	params, results []*goTyp
}

// universal says whether values of the type are boxed: the SDK's universal types
// (typex.T, U, ...: interfaces a generic function declares) and the empty interface. A
// chain converts a concrete value to one by assignment and back with a checked assertion.
func (t *goTyp) universal() bool {
	if t.kind == "any" {
		return true
	}
	return t.kind == "named" && t.pkg == typexPath && len(t.name) == 1 && strings.Contains("TUVWXYZ", t.name)
}

// isEventTime says whether t is the SDK's event time type (typex.EventTime is an alias of
// mtime.Time, so that is what the capture records).
func (t *goTyp) isEventTime() bool {
	return t.kind == "named" && t.pkg == mtimePath && t.name == "Time"
}

// methodSig is the method name of func type t in an interface: name(params) results.
func methodSig(name string, t *goTyp) *jen.Statement { return signature(jen.Id(name), t) }

// signature appends func type t's parameters and results to s.
func signature(s *jen.Statement, t *goTyp) *jen.Statement {
	var ps, rs []jen.Code
	for _, p := range t.params {
		ps = append(ps, p.code())
	}
	for _, r := range t.results {
		rs = append(rs, r.code())
	}
	s = s.Params(ps...)
	switch len(rs) {
	case 0:
		return s
	case 1:
		return s.Add(rs[0])
	}
	return s.Params(rs...)
}

func (t *goTyp) code() *jen.Statement {
	switch t.kind {
	case "any":
		return jen.Any()
	case "slice":
		return jen.Index().Add(t.elem.code())
	case "ptr":
		return jen.Op("*").Add(t.elem.code())
	case "map":
		return jen.Map(t.key.code()).Add(t.elem.code())
	case "func":
		return signature(jen.Func(), t)
	}
	if t.pkg == "" {
		return jen.Id(t.name)
	}
	return jen.Qual(t.pkg, t.name)
}

// parseType parses a whole type string.
func parseType(s string) (*goTyp, error) {
	t, rest, err := parseTypePrefix(s)
	if err != nil {
		return nil, err
	}
	if rest != "" {
		return nil, fmt.Errorf("type %q: cannot spell %q", s, rest)
	}
	return t, nil
}

// parseTypePrefix parses the type at the start of s and returns what follows it. It knows
// the forms user signatures take (named types, slices, pointers, maps, funcs, the empty
// interface); others (arrays, channels, struct literals, variadic funcs, generic
// instantiations) are errors: a stage declaring one stays portable.
func parseTypePrefix(s string) (*goTyp, string, error) {
	start := s
	var t *goTyp
	switch {
	case strings.HasPrefix(s, "interface {}"):
		t, s = &goTyp{kind: "any"}, s[len("interface {}"):]
	case strings.HasPrefix(s, "[]"):
		e, rest, err := parseTypePrefix(s[2:])
		if err != nil {
			return nil, "", err
		}
		t, s = &goTyp{kind: "slice", elem: e}, rest
	case strings.HasPrefix(s, "*"):
		e, rest, err := parseTypePrefix(s[1:])
		if err != nil {
			return nil, "", err
		}
		t, s = &goTyp{kind: "ptr", elem: e}, rest
	case strings.HasPrefix(s, "map["):
		k, rest, err := parseTypePrefix(s[4:])
		if err != nil {
			return nil, "", err
		}
		if !strings.HasPrefix(rest, "]") {
			return nil, "", fmt.Errorf("type %q: malformed map", start)
		}
		e, rest, err := parseTypePrefix(rest[1:])
		if err != nil {
			return nil, "", err
		}
		t, s = &goTyp{kind: "map", key: k, elem: e}, rest
	case strings.HasPrefix(s, "func("):
		ps, rest, err := parseTypeList(s[len("func("):])
		if err != nil {
			return nil, "", err
		}
		t, s = &goTyp{kind: "func", params: ps}, rest
		switch {
		case strings.HasPrefix(s, " ("):
			rs, rest, err := parseTypeList(s[2:])
			if err != nil {
				return nil, "", err
			}
			t.results, s = rs, rest
		case strings.HasPrefix(s, " "):
			r, rest, err := parseTypePrefix(s[1:])
			if err != nil {
				return nil, "", err
			}
			t.results, s = []*goTyp{r}, rest
		}
	default:
		i := strings.IndexAny(s, ",()[] {}")
		if i < 0 {
			i = len(s)
		}
		id := s[:i]
		pkg, name := "", id
		slash := strings.LastIndexByte(id, '/') + 1
		if dot := strings.IndexByte(id[slash:], '.'); dot >= 0 {
			pkg, name = id[:slash+dot], id[slash+dot+1:]
		}
		if !isIdent(name) || (pkg == "" && !predeclared[name]) {
			return nil, "", fmt.Errorf("type %q: cannot spell %q", start, id)
		}
		t, s = &goTyp{kind: "named", pkg: pkg, name: name}, s[i:]
	}
	t.str = start[:len(start)-len(s)]
	return t, s, nil
}

// parseTypeList parses "T1, T2)" (the opening parenthesis already taken).
func parseTypeList(s string) ([]*goTyp, string, error) {
	var ts []*goTyp
	if strings.HasPrefix(s, ")") {
		return nil, s[1:], nil
	}
	for {
		if strings.HasPrefix(s, "...") {
			return nil, "", fmt.Errorf("variadic functions are not generated")
		}
		t, rest, err := parseTypePrefix(s)
		if err != nil {
			return nil, "", err
		}
		ts = append(ts, t)
		switch {
		case strings.HasPrefix(rest, ", "):
			s = rest[2:]
		case strings.HasPrefix(rest, ")"):
			return ts, rest[1:], nil
		default:
			return nil, "", fmt.Errorf("malformed type list at %q", rest)
		}
	}
}

var predeclared = map[string]bool{
	"bool": true, "string": true, "error": true, "byte": true, "rune": true,
	"int": true, "int8": true, "int16": true, "int32": true, "int64": true,
	"uint": true, "uint8": true, "uint16": true, "uint32": true, "uint64": true, "uintptr": true,
	"float32": true, "float64": true, "complex64": true, "complex128": true,
}

func isIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || (i > 0 && unicode.IsDigit(r))) {
			return false
		}
	}
	return true
}

func exported(name string) bool {
	r, _ := utf8.DecodeRuneInString(name)
	return unicode.IsUpper(r)
}

// importable says whether a package path can be imported from the user's package: not
// an internal package (of another module, as far as the generator knows) and not main.
func importable(pkg string) bool {
	if pkg == "main" {
		return false
	}
	for _, el := range strings.Split(pkg, "/") {
		if el == "internal" || el == "vendor" {
			return false
		}
	}
	return true
}

// valueTypeString is a chain value's Go type as capture.TypeString would write it, to
// compare with the types user signatures declare.
func valueTypeString(v capture.Value) string {
	if v.Kind == capture.ValueIterable && len(v.Components) == 1 {
		return "[]" + valueTypeString(v.Components[0])
	}
	if v.Pkg != "" {
		return v.Pkg + "." + v.Type
	}
	return v.Type
}

// spellable says why the generator cannot name v's Go type in the user's package ("" if
// it can): a predeclared type or []byte, a named type of the user's package (main) or an
// exported one of an importable package, or an iterable of one.
func spellable(v capture.Value) string {
	switch v.Kind {
	case capture.ValueIterable:
		if len(v.Components) != 1 {
			return "a malformed iterable"
		}
		return spellable(v.Components[0])
	case capture.ValueKV, capture.ValueCoGBK:
		return fmt.Sprintf("a nested %s value", v.Kind)
	}
	switch {
	case v.Pkg == "" && (predeclared[v.Type] || v.Type == "[]uint8"):
		return ""
	case v.Pkg == "main" && isIdent(v.Type):
		return ""
	case v.Pkg != "" && isIdent(v.Type) && exported(v.Type) && importable(v.Pkg):
		return ""
	}
	return fmt.Sprintf("type %s cannot be named from the generated package", valueTypeString(v))
}
