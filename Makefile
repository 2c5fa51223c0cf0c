# Cohortline's entry points. README.md documents each target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
BIN := bin/cohortline
STATE ?= $(CURDIR)/.state

.PHONY: help build demo test test-kafka4 test-deps test-unit fuzz bench soak services services-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/cohortline
	$(GO) build -buildvcs=auto -o $(BIN) ./cmd/cohortline # auto: stamp the commit (cohortline version, the ledger) even where GOFLAGS says -buildvcs=false

# demo: the whole product on this machine (README.md, "What make demo
# does"). ClickHouse comes from deploy/dev/up, unless COHORTLINE_CLICKHOUSE
# names a running server; Kafka is embedded in the cohortline process.
# DEMO_FLAGS go to `cohortline demo`: DEMO_FLAGS="--kafka 127.0.0.1:19092"
# uses a real broker, DEMO_FLAGS="--users 5000 --events 50000" a small day.
DEMO_FLAGS ?=
demo: build ## run the main job on this machine (see README.md)
	@if [[ -z "$${COHORTLINE_CLICKHOUSE:-}" ]]; then \
	  services=$$(deploy/dev/up clickhouse); eval "$$services"; \
	fi; \
	$(BIN) demo --clickhouse "$$COHORTLINE_CLICKHOUSE" $(DEMO_FLAGS)

# test: chdb is the current ClickHouse that sinks/clickhouse TestChDB runs
# every statement on (in-process; installed once into .state/chdb); the
# test writes the statements it ran to .state/chdb-report.txt.
# cluster: ZooKeeper, 2x2 ClickHouse servers and 3 Kafka brokers for the
# cluster tests (cmd/cohortline cluster_integration_test.go).
test: test-deps ## start Kafka, ClickHouse and the cluster topology (deploy/dev/up), install chDB, vet, run every test with -race
	services=$$(deploy/dev/up clickhouse kafka chdb cluster); eval "$$services"; \
	$(GO) vet ./...; \
	COHORTLINE_CHDB_REPORT=$(STATE)/chdb-report.txt $(GO) test -race -count=1 -timeout 45m ./...

# test-kafka4: the integration tests that talk to Kafka most (the
# pipeline's real-broker tests, run end to end, dead letters, backfill
# parity, gen) on a Kafka 4 broker of its own, beside the default 3.9 one:
# KAFKA4_VERSION from Maven Central, on 127.0.0.1:29092 (controller 29093),
# its state in .state/kafka4, stopped at the end. ClickHouse is
# COHORTLINE_CLICKHOUSE, else deploy/dev/up's. CI runs it after make test.
# Then, alone (it stops and starts that broker, which the first step's
# tests must not see), TestRunBrokerRestart: the broker is the test's to
# restart, never the shared dev broker.
KAFKA4_VERSION ?= 4.1.1
KAFKA4_TESTS := ^(TestRealBroker|TestPartitionReader|TestPartitionReaderSecured|TestDialFetchRefused|TestFetchConnMatchesKafkaGoOnBroker|TestEnsureDeadLetterTopic|TestRunEndToEnd|TestRunEndToEndSecured|TestRunRefusesBadSecurity|TestRunDeadLetters|TestBackfillParity|TestGenKafka)$$

test-kafka4: ## smoke-test the Kafka integration tests on a Kafka 4 broker of their own
	if [[ -z "$${COHORTLINE_CLICKHOUSE:-}" ]]; then \
	  services=$$(deploy/dev/up clickhouse); eval "$$services"; \
	fi; \
	export KAFKA_VERSION=$(KAFKA4_VERSION) COHORTLINE_STATE_DIR=$(STATE)/kafka4 \
	  COHORTLINE_KAFKA_PORT=29092 COHORTLINE_KAFKA_CONTROLLER_PORT=29093 \
	  COHORTLINE_KAFKA_SASL_SSL_PORT=29094 COHORTLINE_KAFKA_MTLS_PORT=29095; \
	trap 'deploy/dev/down kafka' EXIT; \
	kafka=$$(deploy/dev/up kafka); eval "$$kafka"; \
	$(GO) test -count=1 -timeout 20m -run '$(KAFKA4_TESTS)' ./...; \
	COHORTLINE_KAFKA_RESTARTABLE=1 $(GO) test -count=1 -timeout 10m -run '^TestRunBrokerRestart$$' ./cmd/cohortline/

# Debian's iso-codes is an independent copy of ISO 3166-1 and ISO 639-1 that
# a schemas test checks our country and language tables against. Debian's
# prometheus brings promtool, which checks and unit-tests the alert rules
# (deploy TestAlertRules); deploy/dev/apt-install keeps its server from
# starting.
test-deps:
	@dpkg -s iso-codes >/dev/null 2>&1 || { \
	  echo "make: installing Debian's iso-codes (test data)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iso-codes >/dev/null; }
	@command -v promtool >/dev/null 2>&1 || { \
	  echo "make: installing Debian's prometheus (promtool, for the alert rules' tests)"; \
	  deploy/dev/apt-install prometheus; }

test-unit: ## hermetic tests only: no servers (integration tests skip)
	$(GO) test -race -count=1 ./...

# fuzz: every fuzz target for FUZZTIME each, one after the other (go test
# fuzzes one target at a time). FUZZ_MINIMIZE bounds the minimization of
# each new interesting input: at go's default (60s each) the fuzzer of the
# Parquet and Arrow readers spent nearly all its time minimizing inputs of
# a few KiB, 61 executions in 90s; at 10x it made 22k in 60s on one loaded
# core. A crash is written to the package's testdata/fuzz, where it is a
# seed from then on: commit it with the fix.
FUZZTIME ?= 10m
FUZZ_MINIMIZE ?= 10x
FUZZ_TARGETS := ./schemas:FuzzDecode ./cohorts:FuzzParseSpec ./cohorts:FuzzParseKey ./cohorts/privacy:FuzzEncodeDraw \
	./pipeline/archive:FuzzArchiveColumnar ./pipeline/internal/kafkawire:FuzzRecordBatch

#
# Go 1.26's fuzz coordinator can end a run at -fuzztime with a bare
# "context deadline exceeded" and no failing input (golang/go#75804, fixed
# in Go 1.27): seen here on FuzzParseKey after 2.2M executions on a loaded
# machine. Such an end is said and not counted as a finding; any other
# failure, or a new file in the target's testdata/fuzz, is. Every target
# runs; the exit status says whether any found something.
FUZZ_PARALLEL ?= 0

fuzz: ## run every fuzz target for FUZZTIME (default 10m) each
	found=""; log=$$(mktemp); trap 'rm -f "$$log"' EXIT; \
	for t in $(FUZZ_TARGETS); do \
	  pkg=$${t%%:*}; name=$${t#*:}; corpus=$$pkg/testdata/fuzz/$$name; \
	  before=$$( (ls "$$corpus" 2>/dev/null || true) | wc -l); \
	  echo "make fuzz: $$name in $$pkg for $(FUZZTIME)"; \
	  parallel=(); if [[ $(FUZZ_PARALLEL) -gt 0 ]]; then parallel=(-parallel $(FUZZ_PARALLEL)); fi; \
	  status=0; $(GO) test -run '^$$' -fuzz "^$$name$$" -fuzztime $(FUZZTIME) -fuzzminimizetime $(FUZZ_MINIMIZE) "$${parallel[@]}" "$$pkg" 2>&1 | tee "$$log" || status=$$?; \
	  after=$$( (ls "$$corpus" 2>/dev/null || true) | wc -l); \
	  if [[ $$status -ne 0 && $$after -eq $$before ]] && grep -q '^    context deadline exceeded$$' "$$log"; then \
	    echo "make fuzz: $$name: ended by Go's fuzz coordinator at -fuzztime with no failing input (golang/go#75804): not a finding"; \
	  elif [[ $$status -ne 0 || $$after -ne $$before ]]; then \
	    found="$$found $$name"; echo "make fuzz: $$name FOUND something: see $$corpus and the output above"; \
	  fi; \
	done; \
	if [[ -n "$$found" ]]; then echo "make fuzz: findings in:$$found"; exit 1; fi; echo "make fuzz: no findings"

# bench: the Go benchmarks (BENCH_PATTERN selects them, "NONE" skips them),
# then cmd/cohortbench's side-by-side run on the real servers over a topic of
# BENCH_EVENTS events (BENCHMARKS.md), with its partition and memory curves
# (--curve-partitions, default 1,2,4,8,16; --mem-users, default
# 1000000,5000000,10000000) drawn into BENCHMARKS-curves.png in the
# repository's root (--plot). Servers named by COHORTLINE_KAFKA and
# COHORTLINE_CLICKHOUSE are used as they are; otherwise deploy/dev/up starts
# them. BENCH_FLAGS go to cohortbench (e.g. --mem-users none).
# BENCH_LOOKUP_ROWS are the sizes of the published tables that the lookup
# benchmark (sinks/clickhouse BenchmarkLookupLatest) generates on the
# server: 1M rows take about 10 s to load here, 10M about 2 minutes, so
# the 10M run is asked for: make bench BENCH_LOOKUP_ROWS=1000000,10000000.
BENCH_EVENTS ?= 5000000
BENCH_PATTERN ?= .
BENCH_FLAGS ?=
BENCH_LOOKUP_ROWS ?= 1000000

bench: build ## print the benchmark figures: Go benchmarks, then Cohortline vs raw Kafka vs ClickHouse's Kafka engine vs Flink (BENCHMARKS.md)
	if [[ -z "$${COHORTLINE_KAFKA:-}" || -z "$${COHORTLINE_CLICKHOUSE:-}" ]]; then \
	  services=$$(deploy/dev/up); eval "$$services"; \
	fi; \
	COHORTLINE_BENCH_LOOKUP_ROWS=$(BENCH_LOOKUP_ROWS) $(GO) test -run '^$$' -bench '$(BENCH_PATTERN)' -benchmem -timeout 30m ./...; \
	$(GO) build -o bin/cohortbench ./cmd/cohortbench; \
	bin/cohortbench --cohortline $(BIN) --events $(BENCH_EVENTS) $(BENCH_FLAGS)

# soak: `cohortbench soak` (BENCHMARKS.md, "Soak"): SOAK_RATE events/s of
# realistic activity (late, duplicate and bad records) for SOAK_DURATION
# through `cohortline run` on a topic and databases of its own, sampling
# RSS, heap, goroutines, open files and lag every 10 s; it prints the
# slopes and exits 1 when a series grew beyond its noise. Servers as for
# bench. SOAK_FLAGS go to cohortbench soak (e.g. --interval 5s).
SOAK_DURATION ?= 30m
SOAK_RATE ?= 10000
SOAK_FLAGS ?=

soak: build ## run cohortline for SOAK_DURATION (default 30m) at SOAK_RATE events/s and fail on growth of memory, goroutines, open files or lag
	if [[ -z "$${COHORTLINE_KAFKA:-}" || -z "$${COHORTLINE_CLICKHOUSE:-}" ]]; then \
	  services=$$(deploy/dev/up clickhouse kafka); eval "$$services"; \
	fi; \
	$(GO) build -o bin/cohortbench ./cmd/cohortbench; \
	bin/cohortbench soak --cohortline $(BIN) --duration $(SOAK_DURATION) --rate $(SOAK_RATE) $(SOAK_FLAGS)

services: ## start Kafka and ClickHouse on loopback and print their addresses
	deploy/dev/up

services-down: ## stop them
	deploy/dev/down
