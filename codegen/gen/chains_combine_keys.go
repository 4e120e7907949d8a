package gen

import (
	"fmt"

	"github.com/dave/jennifer/jen"

	"github.com/sluice-runner/sluice/codegen/capture"
)

// A precombine's cache keys: the SDK's lifted combine tells keys apart by their encoding
// with its input's key coder (exec.liftingCache.lookup compares encodings byte for byte;
// exec.makeElementHasher only finds the bucket), and a cached key's partial goes out with
// the key of its latest element. A chain keys its map:
//
//   - by the key itself where Go equality is encoding equality: string, varint and
//     varintz keys of types the generated package can name; bytes keys as a string
//     (slices are not comparable; the same bytes are the same encoding);
//   - by the encoding, as a string, for keys the SDK codes with a coder rt does not know
//     (kind opaque: rows of structs, custom coders, float32 and unsigned integers), made
//     per element with the SDK's own encoder of the key coder (rt.KeyEncoder, the
//     runner's coder of the precombine's input): a custom coder may code unequal values
//     alike, and a row coder codes -0 and +0 fields apart. The entry holds the key value
//     of its latest element, which is what it emits, as the SDK's does.
//
// Keys the SDK's lifted combine cannot hash stay portable: exec.makeElementHasher panics
// on the Beam double and bool coders (Go SDK v2.77.0), so the SDK fails the bundle of a
// precombine on float64 or bool keys, and a native chain, which would not, would not
// behave as the SDK does.

// typedKeys are the key kinds whose Go equality is the equality of their encodings.
var typedKeys = map[string]bool{
	capture.ValueString: true, capture.ValueVarInt: true, capture.ValueVarIntZ: true, capture.ValueBytes: true,
}

// unhashedKeys are the key coders the Go SDK's lifted combine has no hasher for.
var unhashedKeys = map[string]string{capture.ValueDouble: "double", capture.ValueBool: "bool"}

// precombineKey says why a precombine on keys k cannot tell them apart as the SDK does
// ("" if it can).
func precombineKey(k capture.Value) string {
	what := fmt.Sprintf("its key %s (%s)", valueTypeString(k), k.Kind)
	switch {
	case unhashedKeys[k.Kind] != "":
		return fmt.Sprintf("%s: the Go SDK's lifted combine fails on it (exec.makeElementHasher has no hasher for the %s coder): the stage stays portable to fail as the SDK does", what, unhashedKeys[k.Kind])
	case k.Kind == capture.ValueOpaque:
		return ""
	case !typedKeys[k.Kind]:
		return fmt.Sprintf("%s: the SDK tells keys apart by their encoding: %s", what, notCovered)
	case spellable(k) != "":
		return fmt.Sprintf("%s: the SDK tells keys apart by their encoding, a chain by Go equality, and %s", what, spellable(k))
	}
	return ""
}

// encodedKey says whether precombine st keys its cache by the keys' encoding.
func (st *step) encodedKey() bool {
	return st.kind == stepPrecombine && st.in.parts[0].Kind == capture.ValueOpaque
}

func keyCoderField(st *step) string { return fmt.Sprintf("keyCoder%d", st.idx) }
func keyEncField(st *step) string   { return fmt.Sprintf("keyEnc%d", st.idx) }

// encodedKeySteps are the chain's precombines keyed by encoding.
func (em *emitter) encodedKeySteps() []*step {
	var sts []*step
	for _, st := range em.ch.steps {
		if st.encodedKey() {
			sts = append(sts, st)
		}
	}
	return sts
}

// keyStageFields are the stage's key coders of precombines keyed by encoding.
func (em *emitter) keyStageFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.encodedKeySteps() {
		fields = append(fields, jen.Id(keyCoderField(st)).Op("*").Qual(coderPath, "Coder").Comment(st.name+"'s key coder: it tells keys apart by their encoding"))
	}
	return fields
}

// keyFactory asks the harness for them.
func (em *emitter) keyFactory() []jen.Code {
	var stmts []jen.Code
	for _, st := range em.encodedKeySteps() {
		stmts = append(stmts, jen.If(
			jen.List(jen.Id("s").Dot(keyCoderField(st)), jen.Err()).Op("=").Qual(rtPath, "PrecombineKeyCoder").Call(jen.Id("env"), jen.Lit(st.name)),
			jen.Err().Op("!=").Nil(),
		).Block(jen.Return(jen.Nil(), em.errorf("%w", jen.Err()))))
	}
	return stmts
}

// keyBundleFields are the bundle's key encoders.
func (em *emitter) keyBundleFields() []jen.Code {
	var fields []jen.Code
	for _, st := range em.encodedKeySteps() {
		fields = append(fields, jen.Id(keyEncField(st)).Op("*").Qual(rtPath, "KeyEncoder"))
	}
	return fields
}

func (em *emitter) keyStartBundle() []jen.Code {
	var stmts []jen.Code
	for _, st := range em.encodedKeySteps() {
		stmts = append(stmts, jen.Id("b").Dot(keyEncField(st)).Op("=").Qual(rtPath, "NewKeyEncoder").Call(jen.Id("s").Dot(keyCoderField(st))))
	}
	return stmts
}

// cacheKey are the statements a precombine's element starts with (encoding its key, for
// a cache keyed by encoding) and the expression of its key v0 in the cache's map.
func (em *emitter) cacheKey(st *step) ([]jen.Code, *jen.Statement) {
	var stmts []jen.Code
	key := jen.Id("v0")
	switch {
	case st.encodedKey():
		stmts = append(stmts,
			jen.List(jen.Id("enc"), jen.Err()).Op(":=").Id("b").Dot(keyEncField(st)).Dot("Encode").Call(jen.Id("v0")),
			jen.If(jen.Err().Op("!=").Nil()).Block(jen.Id("b").Dot("fail").Call(em.errorf(st.name+": %w", jen.Err())), jen.Return()))
		key = jen.String().Call(jen.Id("enc"))
	case st.in.parts[0].Kind == capture.ValueBytes:
		key = jen.String().Call(jen.Id("v0"))
	}
	if st.in.windowed {
		// The SDK's lifted combine keeps a partial per key and window.
		key = jen.Id(em.precombineKeyType(st)).Values(key, jen.Id("b").Dot("h").Dot("Windows"))
	}
	return stmts, key
}

// keyType is the map key of a precombine: with the window on interval windows, in a
// struct (see cacheKey).
func (em *emitter) keyType(st *step) jen.Code {
	if st.in.windowed {
		return jen.Id(em.precombineKeyType(st))
	}
	return em.plainKeyType(st)
}

// plainKeyType is the key's own type, or a string for bytes keys and keys told apart by
// their encoding.
func (em *emitter) plainKeyType(st *step) jen.Code {
	if k := st.in.parts[0]; k.Kind != capture.ValueBytes && !st.encodedKey() {
		return goType(k)
	}
	return jen.String()
}
