package gen

import (
	"bytes"
	"fmt"
	"go/format"
	"strings"

	"github.com/dave/jennifer/jen"
)

// RegistryVar is the variable the generated file declares: fingerprint -> stage summary.
const RegistryVar = "sluiceStages"

// Options shape the generated file.
type Options struct {
	// Package is the Go package of the generated file (default "main").
	Package string
	// Args are the pipeline flags the capture ran with, recorded in the header so that the
	// file says how to reproduce it.
	Args []string
	// PkgPath is the generated package's import path, as the capture names its functions
	// and types (default "main", the capture running the package as a program): functions
	// of that package are called directly.
	PkgPath string
}

// Generate writes the Go file for a: a header listing every stage with its fingerprint,
// transforms and whether it runs natively, the registry of SDK stages by fingerprint,
// typed edge coders, and a fused chain per native stage, registered with codegen/rt. The
// output is gofmt-clean and a pure function of a and opts: generating twice gives the
// same bytes.
func Generate(a *Analysis, opts Options) ([]byte, error) {
	return GenerateVariants([]Variant{{Analysis: a, Args: opts.Args}}, opts)
}

// Variant is the pipeline a program builds with one set of flags (Nexmark's --query=N):
// a program whose flags change its pipeline gets one file with the chains of each.
type Variant struct {
	Analysis *Analysis
	Args     []string
}

// GenerateVariants is Generate for a program captured with several flag sets: the file
// lists each variant's stages and holds each chain once (stages the variants share have
// the same fingerprint). With more than one variant, generated names carry the variant's
// number (sluiceStageV1S2) so that they do not collide; opts.Args is not used.
func GenerateVariants(vs []Variant, opts Options) ([]byte, error) {
	if len(vs) == 0 {
		return nil, fmt.Errorf("no pipeline to generate for")
	}
	pkg := opts.Package
	if pkg == "" {
		pkg = "main"
	}
	local := opts.PkgPath
	if local == "" {
		local = "main"
	}
	if len(vs) > 1 {
		for i, v := range vs {
			v.Analysis.prefixNames(fmt.Sprintf("V%d", i))
		}
	}
	// With its own path, the file names its package's functions and types unqualified.
	f := jen.NewFilePathName(local, pkg)
	for _, l := range variantsHeader(vs) {
		f.HeaderComment(l)
	}

	registry := jen.Dict{}
	var chains []*emitter
	var register []jen.Code
	chained, portable := map[string]bool{}, map[string]bool{}
	for _, v := range vs {
		for _, s := range v.Analysis.Stages {
			if s.Fingerprint != "" && !chained[s.Fingerprint] && !portable[s.Fingerprint] {
				registry[jen.Lit(s.Fingerprint)] = jen.Lit(stageLabel(s))
			}
			if s.chain != nil && !chained[s.Fingerprint] {
				chained[s.Fingerprint] = true
				em := s.chain.typeNames(local)
				chains = append(chains, em)
				register = append(register, jen.Qual(rtPath, "RegisterStage").Call(jen.Lit(s.Fingerprint), jen.Id(em.ctor)))
			}
		}
	}
	for _, v := range vs {
		for _, s := range v.Analysis.Stages {
			if s.chain == nil && s.Fingerprint != "" && !chained[s.Fingerprint] && !portable[s.Fingerprint] {
				portable[s.Fingerprint] = true
				register = append(register, jen.Qual(rtPath, "RegisterPortableStage").Call(jen.Lit(s.Fingerprint), jen.Lit(s.Why)))
			}
		}
	}
	f.Comment(RegistryVar + " maps the fingerprint of each SDK stage of the pipeline, as the runner plans it,")
	f.Comment("to the stage it was computed from. A worker whose stage fingerprint is missing here runs")
	f.Comment("that stage portably.")
	f.Var().Id(RegistryVar).Op("=").Map(jen.String()).String().Values(registry)

	if len(register) > 0 {
		f.Anon(nativePath)
		f.Line()
		f.Comment("init registers the native stages' chains by fingerprint, and why the others have none")
		f.Comment("(the runner says so in the job's messages); package native, imported for its side")
		f.Comment("effect, runs the chains next to the SDK harness.")
		f.Func().Id("init").Params().Block(register...)
	}

	// With several variants, only the coders of the chains written: a variant's stage
	// that another variant has already uses that variant's chain and coders.
	used := map[*EdgeCoder]bool{}
	for _, em := range chains {
		used[em.ch.inCode] = true
		for _, c := range em.ch.outs {
			used[c] = true
		}
	}
	emitted := map[*EdgeCoder]bool{}
	for _, v := range vs {
		for _, e := range v.Analysis.Edges {
			if e.Typed != nil && !emitted[e.Typed] && (len(vs) == 1 || used[e.Typed]) {
				emitted[e.Typed] = true
				f.Line()
				e.Typed.emit(f, e.PCollection)
			}
		}
	}
	for _, em := range chains {
		f.Line()
		em.emit(f)
	}

	var buf bytes.Buffer
	if err := f.Render(&buf); err != nil {
		return nil, fmt.Errorf("rendering the generated file: %w", err)
	}
	// jennifer formats its output; formatting again guards the gofmt-clean promise.
	out, err := format.Source(buf.Bytes())
	if err != nil {
		return nil, fmt.Errorf("formatting the generated file: %w", err)
	}
	return out, nil
}

// prefixNames puts p before the names of a's chains and edge coders.
func (a *Analysis) prefixNames(p string) {
	for _, s := range a.Stages {
		if s.chain != nil {
			s.chain.name = p + s.chain.name
		}
	}
	renamed := map[*EdgeCoder]bool{}
	for _, e := range a.Edges {
		if e.Typed != nil && !renamed[e.Typed] {
			renamed[e.Typed] = true
			e.Typed.Name = p + e.Typed.Name
		}
	}
}

// stageLabel is the registry's description of a stage: its id and transforms.
func stageLabel(s Stage) string {
	names := make([]string, 0, len(s.Transforms))
	for _, t := range s.Transforms {
		names = append(names, t.Name)
	}
	return s.ID + ": " + strings.Join(names, " | ")
}

// variantsHeader is the file's header: what it is, then each variant's stages.
func variantsHeader(vs []Variant) []string {
	captured := []string{"the package with --runner=sluicecapture" + argsText(vs[0].Args) + "."}
	if len(vs) > 1 {
		captured = []string{"the package with --runner=sluicecapture and each of these flag sets (variants):"}
		for i, v := range vs {
			captured = append(captured, fmt.Sprintf("  V%d:%s", i, argsText(v.Args)))
		}
	}
	l := []string{
		"Code generated by sluicegen. DO NOT EDIT.",
		"",
		"Stages of this package's pipeline as Sluice plans them (runner/plan), captured by running",
	}
	l = append(l, captured...)
	l = append(l,
		"Regenerate with `go generate` after changing the pipeline. A stage whose fingerprint",
		"does not match the running pipeline's runs portably, never wrongly.",
		"",
		"Each SDK stage whose transforms are all covered (function and struct DoFns, grouped",
		"values, bounded splittable DoFns, CombineFns, CoGroupByKeys, side inputs, user state,",
		"timers, global and interval windows) runs natively: a fused chain of plain Go calls",
		"between typed coders (byte for byte the Go SDK's wire format, through codegen/rt; the",
		"SDK's own coder on a stage port without a typed one), registered by fingerprint.",
		"Every other stage runs portably, over the Fn API, and says why.",
	)
	for i, v := range vs {
		if len(vs) > 1 {
			l = append(l, "", fmt.Sprintf("Variant V%d (%s):", i, strings.TrimSpace(argsText(v.Args))))
		}
		l = append(l, stagesHeader(v.Analysis)...)
	}
	return l
}

// stagesHeader lists a pipeline's stages and edges for the header.
func stagesHeader(a *Analysis) []string {
	l := []string{""}
	var sdk, native int
	for _, s := range a.Stages {
		if s.Kind != "sdk" {
			continue
		}
		sdk++
		if s.Native {
			native++
		}
	}
	l = append(l, fmt.Sprintf("%d stages, %d of them SDK stages, %d native.", len(a.Stages), sdk, native))
	for _, s := range a.Stages {
		l = append(l, "")
		switch {
		case s.Kind != "sdk":
			l = append(l, fmt.Sprintf("stage %s (%s): runs in the runner", s.ID, s.Kind))
		case s.Native:
			l = append(l, fmt.Sprintf("stage %s (sdk) fingerprint %s", s.ID, s.Fingerprint))
			l = append(l, "  native: yes (sluiceStage"+s.chain.name+")")
			for _, n := range s.chain.notes {
				l = append(l, "  "+n)
			}
		default:
			l = append(l, fmt.Sprintf("stage %s (sdk) fingerprint %s", s.ID, s.Fingerprint))
			l = append(l, "  native: no ("+s.Why+")")
		}
		for _, t := range s.Transforms {
			line := "  " + t.Name
			if t.Fn != "" {
				line += " (" + t.Fn + ")"
			}
			l = append(l, line)
		}
	}
	if len(a.Edges) > 0 {
		l = append(l, "", "Edges, with their wire coders and typed coders (sluiceAppend/sluiceDecode + name):")
		for _, e := range a.Edges {
			side := ""
			if e.Side {
				side = " side input"
			}
			typed := "    typed: " + e.Typed.nameOr("not yet: "+e.Untyped)
			l = append(l, fmt.Sprintf("  %s -> %s %s%s %s", e.From, e.To, e.Partitioning, side, e.PCollection), "    "+e.Coder, typed)
		}
	}
	return l
}

func argsText(args []string) string {
	if len(args) == 0 {
		return ""
	}
	return " " + strings.Join(args, " ")
}
