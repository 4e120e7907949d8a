# Sluice: build, test and try out the runner. See README.md.
#
#   make build        bin/sluice
#   make test         vet, unit tests with -race, then the conformance tests
#                     listed in conformance/expected-pass.txt (must all pass) and
#                     the model pipelines of testdata/modelcheck on Sluice
#   make run          start bin/sluice serve, run the word-count example, stop
#   make conformance  whole Beam Go integration suite; report only, fails only
#                     if a test listed in conformance/expected-pass.txt fails
#   make bench        Sluice vs prism (and Beam's direct runner) on the same machine:
#                     builds bin/sluice and bin/prism, runs tools/bench/driver;
#                     table on stdout, out/bench/results.{json,md}; PROFILE=1 adds
#                     CPU and heap profiles of the Sluice server per workload
#                     (out/bench/profiles/).
#                     BENCH_FLAGS='--quick' for a run of a few minutes.
#   make bench-state  the stateful per-key count (value state, timers) on Sluice and
#                     prism; BENCH_STATE_FULL=1 for 10M elements over 1M keys
#   make modelcheck   small Beam Go pipelines using model features (state and
#                     timers, triggers and panes, session/sliding windows, windowed
#                     side inputs, SDF) from testdata/modelcheck on Sluice and prism:
#                     builds bin/sluice and bin/prism, runs tools/modelcheck; each
#                     result must equal the pipeline's expected.txt. Table on stdout,
#                     outputs and logs in out/modelcheck/.
#   make gobench      go test benchmarks (build tag bench)
#   make clean        remove bin/ and out/

GO ?= go
BIN := bin
EXPECTED := conformance/expected-pass.txt
# Bound on `go test -race ./...`; the whole of `make test` must stay well
# under 25 minutes on 2 cores.
UNIT_TIMEOUT ?= 10m
# Extra flags for tools/conformance, e.g. CONFORMANCE_FLAGS='--run=TestCoGBK'.
CONFORMANCE_FLAGS ?=
# Extra flags for tools/runexample, e.g. RUN_FLAGS='--input=big.txt'.
RUN_FLAGS ?=
# Flags for tools/bench/driver, e.g. BENCH_FLAGS='--quick --workloads=wordcount,cogbk'.
BENCH_FLAGS ?=
# Flags for tools/modelcheck, e.g. MODELCHECK_FLAGS='--pipelines=sessions_sum --timeout=1m'.
MODELCHECK_FLAGS ?=

.PHONY: all build tools test vet unit conformance-expected conformance run bench bench-state gobench clean

all: build

build:
	$(GO) build -o $(BIN)/sluice ./tools/sluice

tools:
	$(GO) build -o $(BIN)/conformance ./tools/conformance
	$(GO) build -o $(BIN)/runexample ./tools/runexample
	$(GO) build -o $(BIN)/wordcount ./testdata/wordcount

test: vet unit conformance-expected modelcheck-sluice

# ./... skips testdata/, so the example pipelines are vetted explicitly.
vet:
	$(GO) vet ./...
	$(GO) vet ./testdata/wordcount/... ./testdata/nexmark/... ./testdata/statefulcount/...
	$(GO) vet ./testdata/modelcheck/... ./codegen/native/testdata/linecount
	# The committed generated files must match their pipelines (same flags as their go:generate lines).
	$(GO) run ./tools/sluicegen --check --dir=testdata/wordcount -- --input=input.txt
	$(GO) run ./tools/sluicegen --check --dir=testdata/nexmark -- --query=0 -- --query=1 -- --query=2 -- --query=3 -- --query=4 -- --query=5 -- --query=7 -- --query=8

unit:
	$(GO) test -race -timeout $(UNIT_TIMEOUT) ./...
	# Tests that drive the Go SDK harness in-process through a mid-bundle stop, which
	# trips a data race inside the SDK itself, run without -race (see cancel_test.go).
	$(GO) test -timeout $(UNIT_TIMEOUT) -run 'TestCancel' ./jobservice/embedded/

# Runs only the listed tests against a fresh server; skipped while the list is empty.
conformance-expected:
	@if grep -qEv '^[[:space:]]*(#|$$)' $(EXPECTED); then \
		$(MAKE) --no-print-directory build tools && \
		$(BIN)/conformance --only-file=$(EXPECTED) --expected=$(EXPECTED) $(CONFORMANCE_FLAGS); \
	else \
		echo "conformance: $(EXPECTED) lists no tests yet; skipping the conformance check"; \
	fi

conformance: build tools
	$(BIN)/conformance --expected=$(EXPECTED) $(CONFORMANCE_FLAGS)

run: build tools
	$(BIN)/runexample $(RUN_FLAGS)

bench: build
	$(GO) build -o $(BIN)/prism github.com/apache/beam/sdks/v2/go/cmd/prism
	$(GO) build -o $(BIN)/bench ./tools/bench/driver
	$(BIN)/bench --sluice=$(BIN)/sluice --prism=$(BIN)/prism $(if $(PROFILE),--profile) $(BENCH_FLAGS)

# The stateful per-key count (value state and a timer per key) on Sluice and prism; quick
# sizes unless BENCH_STATE_FULL=1 (10M elements, 1M keys: about 16 minutes on Sluice, hours on prism).
bench-state:
	$(MAKE) bench BENCH_FLAGS='--workloads=stateful_count --runs=1 $(if $(BENCH_STATE_FULL),--timeout=100m,--quick) $(BENCH_FLAGS)'

.PHONY: modelcheck
modelcheck: build
	$(GO) build -o $(BIN)/prism github.com/apache/beam/sdks/v2/go/cmd/prism
	$(GO) build -o $(BIN)/modelcheck ./tools/modelcheck
	$(BIN)/modelcheck --sluice=$(BIN)/sluice --prism=$(BIN)/prism $(MODELCHECK_FLAGS)

# The model pipelines on Sluice alone, against their expected output (part of make test).
.PHONY: modelcheck-sluice
modelcheck-sluice: build
	$(GO) build -o $(BIN)/modelcheck ./tools/modelcheck
	$(BIN)/modelcheck --sluice-only --sluice=$(BIN)/sluice $(MODELCHECK_FLAGS)

gobench:
	$(GO) vet -tags bench ./tools/bench/
	$(GO) test -tags bench -run='^$$' -bench=. ./...

clean:
	rm -rf $(BIN) out
