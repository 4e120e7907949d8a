// Package bench holds Sluice's end-to-end benchmarks: the same Beam Go pipelines run on
// Sluice's embedded server and on Beam's prism runner in the same process and the same
// run, both through the universal runner in LOOPBACK mode, so their ratio is comparable.
//
//	go test -tags bench -run='^$' -bench=WordCount -benchtime=3x ./tools/bench/
//
// The benchmarks build only with the bench tag: they link Beam's prism runner, which
// `go test ./...` in CI need not compile.
//
// SLUICE_BENCH_MB sets the word-count input size (default 50).
package bench
