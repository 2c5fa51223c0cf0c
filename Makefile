# Cohortline's entry points. README.md documents each target.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help

GO ?= go
BIN := bin/cohortline
STATE ?= $(CURDIR)/.state

.PHONY: help build demo test test-deps test-unit bench services services-down

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/'

build: ## build bin/cohortline
	$(GO) build -o $(BIN) ./cmd/cohortline

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

test: test-deps ## start Kafka and ClickHouse (deploy/dev/up), vet, run every test with -race
	services=$$(deploy/dev/up); eval "$$services"; \
	$(GO) vet ./...; \
	$(GO) test -race -count=1 -timeout 30m ./...

# Debian's iso-codes is an independent copy of ISO 3166-1 and ISO 639-1 that
# a schemas test checks our country and language tables against.
test-deps:
	@dpkg -s iso-codes >/dev/null 2>&1 || { \
	  echo "make: installing Debian's iso-codes (test data)"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq iso-codes >/dev/null; }

test-unit: ## hermetic tests only: no servers (integration tests skip)
	$(GO) test -race -count=1 ./...

bench: build ## print the benchmark figures (decoder, aggregation, generator, end to end on the real servers)
	services=$$(deploy/dev/up); eval "$$services"; \
	$(GO) test -run '^$$' -bench . -benchmem -timeout 30m ./...
	mkdir -p $(STATE)
	$(BIN) gen --events 5000000 --out $(STATE)/bench-events.ndjson
	rm -f $(STATE)/bench-events.ndjson

services: ## start Kafka and ClickHouse on loopback and print their addresses
	deploy/dev/up

services-down: ## stop them
	deploy/dev/down
