// Command sluicegen captures the Beam pipeline a Go main package builds and writes
// <name>_sluice.go next to it: the pipeline's stages as Sluice plans them, with a fingerprint
// per SDK stage (see package codegen). Use it from the pipeline's package:
//
//	//go:generate go run github.com/sluice-runner/sluice/tools/sluicegen [flags] [-- pipeline flags]
//
// It builds and runs the package with a capture runner added through a build overlay, so
// main needs no change beyond running its pipeline with beamx.Run (or the --runner flag).
// Pipeline flags the program needs in order to build its pipeline (--input=..., --query=5)
// go after "--". A program whose flags change its pipeline can be captured with several
// flag sets, each after its own "--" (-- --query=0 -- --query=1): the file then holds the
// chains of every variant, each once.
//
// Flags:
//
//	--dir DIR         the pipeline's main package (default ".", where go generate runs)
//	--out FILE        file to write (default <directory name>_sluice.go in DIR)
//	--check           write nothing; exit 1 if the file is missing or would change
//	--timeout D       bound on building and running the program (default 5m)
//	--tags TAGS       build tags for the program
//	--capture FILE    generate from a capture file instead of running the program
//	--save-capture F  also write the capture to F (to inspect it, or for --capture)
//	-v                print the planned stages to stderr
//
// Exit status: 0 when the file is written or up to date, 1 when --check finds it missing
// or stale, 2 on any other failure (bad flags, a program that does not build or capture).
package main
