# gatehouse — run `make help` for the targets.
SHELL := /bin/bash
GO    ?= go
BIN   := bin/gatehouse
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -X github.com/gatehouse-authz/gatehouse/internal/cli.Version=$(VERSION)

.PHONY: help build run test unit lint generate check-gen bench bench-go e2e policy-test fuzz clean

help: ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

build: ## build bin/gatehouse
	$(GO) build -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/gatehouse

run: build ## build and start gatehouse on the embedded store (./gatehouse-data)
	@scripts/run.sh $(BIN)

test: lint check-gen unit policy-test fuzz e2e ## every test: lint, generated-code freshness, unit, integration, crash and end-to-end (real Trino) tests

unit: ## go test with the race detector, everything but the Trino end-to-end suite
	$(GO) test -race -count=1 $$($(GO) list ./... | grep -v /test/e2e)

policy-test: ## the Rego tests, with gatehouse's tester and with stock opa (installed into .cache/bin)
	$(GO) run ./cmd/gatehouse policy test policies
	scripts/opa-test.sh

# A count, not a duration: with a duration, Go 1.26's fuzz coordinator can
# report its own stop deadline as "context deadline exceeded" with no failing
# input (golang/go#75804, fixed in Go 1.27). 100,000 runs take ~10-20 s here.
fuzz: ## a short fuzz run of the decision request decoder
	$(GO) test -run '^$$' -fuzz '^FuzzDecode$$' -fuzztime 100000x ./internal/trino/

e2e: ## end-to-end suite against a real Trino 476 (fetched once into .cache/trino)
	test/e2e/fetch-trino.sh
	$(GO) test -count=1 -timeout 20m ./test/e2e/...

lint: ## gofmt, go vet
	@out=$$(gofmt -l $$(git ls-files '*.go' | grep -v '^gen/')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

generate: ## regenerate gen/ from proto/ with local buf plugins
	scripts/generate.sh

check-gen: ## fail if gen/ is stale
	scripts/check-gen.sh

bench: ## gatehouse vs stock OPA side by side (bench/decisions, ~10 min on an idle machine); writes its section of docs/performance.md
	$(GO) run ./bench/decisions -write docs/performance.md

bench-go: ## go benchmarks, in-process (see docs/performance.md)
	$(GO) test -run '^$$' -bench . -benchmem ./...

bench-gateway: ## the Trino gateway's overhead on a 1,000,000-row tpch scan vs Trino directly (needs test/e2e/fetch-trino.sh; docs/performance.md)
	$(GO) run ./bench/gateway -rows 1000000 -runs 5

clean: ## remove build output
	rm -rf bin
