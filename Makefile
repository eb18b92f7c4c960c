# countersign — build, run and check.
#
#   make dev        run countersign on this machine (embedded Temporal, SQLite)
#   make test       all tests (needs PostgreSQL on 127.0.0.1:5432, see README)
#   make test-topology  the production topology on this machine, with faults (restarts PostgreSQL: run it alone)
#   make lint       go vet and Temporal's workflowcheck on workflows/
#   make bench      pipeline, audit, scoring and encryption benchmarks, as ratios to a baseline
#   make bench-parked  memory of `countersign dev` as reviews pile up, by cache size (docs/operations.md: Memory of parked reviews)
#   make bench-queue   the review queue's latency at 1k, 10k and 100k pending reviews (docs/operations.md: The review queue at scale)
#   make bench-scale   100,000 open reviews through the API: memory, disk, list and decision latency (docs/operations.md: One machine, many open reviews)
#   make bench-export  an export of 1,000,000 documents from each store: time per line and peak memory (docs/operations.md: Exports at scale)
#   make histories  re-record the workflow histories the replay tests use
#   make generate   the stores' query code, from their .sql files, with sqlc
#   make oversight-bench  review share and escaped errors per error budget on a synthetic task (docs/operations.md: Oversight benchmark)

export GOTOOLCHAIN ?= local
GO        ?= go
BIN       := bin/countersign
# The client commands alone, without the server roles and the embedded
# Temporal server they link: each command starts in a few milliseconds
# instead of a tenth of a second (docs/operations.md: Start-up of the CLI).
CLI_BIN   := bin/countersign-cli
TOOLS     := $(CURDIR)/.bin
DATA_DIR  ?= .countersign
ARGS      ?=
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)

WORKFLOWCHECK_VERSION := v0.6.0
# sqlc writes the stores' query code; internal/store/sqlcsum checks it is
# this version's.
SQLC_VERSION := v1.31.1

# Packages whose tests run again under the race detector: all but those that
# build the Temporal server into the test binary, which the race detector
# would make several times slower to build.
RACE_PKGS = $(shell $(GO) list ./... | grep -v -e /internal/e2e -e /cmd/ -e '/cmd$$' -e /internal/app -e /internal/devserver)

.PHONY: all build dev test test-topology test-short lint bench bench-parked bench-scale bench-queue bench-export histories generate oversight-bench clean help

all: lint test

help:
	@sed -n 's/^#   //p' Makefile

build:
	$(GO) build -ldflags "-s -w -X main.version=$(VERSION)" -o $(BIN) ./cmd/countersign
	$(GO) build -tags clientonly -ldflags "-s -w -X main.version=$(VERSION)" -o $(CLI_BIN) ./cmd/countersign

dev: build
	./$(BIN) dev --data-dir $(DATA_DIR) $(ARGS)

# The Helm chart's checks are a module of their own, deploy/helm/chartcheck:
# Helm's k8s.io modules are newer than Temporal's server allows in this one.
test:
	$(GO) test -count=1 -timeout 30m ./...
	cd deploy/helm/chartcheck && $(GO) test -count=1 ./...
	$(GO) test -count=1 -race -timeout 30m $(RACE_PKGS)

# The production topology on this machine, each role a process of the
# binary, with faults (docs/operations.md: One machine, as separate
# processes); prints its figures. It restarts
# PostgreSQL, so it runs alone, after make test, never beside other tests.
test-topology:
	COUNTERSIGN_TOPOLOGY=1 $(GO) test -count=1 -run '^TestTopology$$' -v -timeout 30m ./internal/e2e

# The fast tests only: no embedded Temporal server, no second process.
test-short:
	$(GO) test -count=1 $(RACE_PKGS)

$(TOOLS)/workflowcheck:
	GOBIN=$(TOOLS) $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

lint: $(TOOLS)/workflowcheck
	$(GO) vet ./...
	$(TOOLS)/workflowcheck ./workflows/...
	@test -z "$$(gofmt -l .)" || (echo "gofmt would change:"; gofmt -l .; exit 1)

bench:
	$(GO) test -run '^$$' -bench 'PipelineVsBare|DecisionVsUpdate|TemporalPostgresVsSQLite' -benchtime 256x -timeout 30m ./internal/e2e
	$(GO) test -run '^$$' -bench AuditAppend -benchtime 2000x -timeout 30m ./internal/store
	$(GO) test -run '^$$' -bench VerifyStore -benchtime 3x -timeout 30m ./internal/audit
	$(GO) test -run '^$$' -bench Score -benchtime 300x -timeout 30m ./internal/scoring
	$(GO) test -run '^$$' -bench PayloadCodec -benchmem ./internal/codec

# Not in CI: parks PARKED reviews (default 1500) in `countersign dev` in each
# of three cache configurations and prints its memory (docs/operations.md:
# Memory of parked reviews). About 4 minutes at the default size.
PARKED ?= 1500
bench-parked:
	COUNTERSIGN_PARKED=$(PARKED) $(GO) test -count=1 -run '^TestParkedReviewsMemory$$' -v -timeout 120m ./internal/e2e

# Not in CI: parks SCALE reviews (default 100000) in `countersign dev`
# through the REST API and measures memory, disk, the review lists' and a
# decision's latency at 1k, 10k and 100k (docs/operations.md: One machine,
# many open reviews). Hours at the default size on two cores.
SCALE ?= 100000
bench-scale:
	COUNTERSIGN_SCALE=$(SCALE) $(GO) test -count=1 -run '^TestScaleRun$$' -v -timeout 600m ./internal/e2e

# Not in CI: fills a store with 100,000 pending reviews (synthetic rows) and
# measures the queue's pages and GET /v1/reviews at 1k, 10k and 100k; about
# two minutes.
bench-queue:
	$(GO) test -count=1 -run '^$$' -bench '^BenchmarkQueueAtScale$$' -benchtime 1x -timeout 30m ./internal/web

# Not in CI: fills each store with EXPORT_DOCS accepted documents (synthetic
# rows, default 1,000,000: about 1.5 GB of SQLite file and as much in
# PostgreSQL) and exports them; about 5 minutes.
EXPORT_DOCS ?= 1000000
bench-export:
	COUNTERSIGN_EXPORT_DOCS=$(EXPORT_DOCS) $(GO) test -count=1 -run '^$$' -bench '^BenchmarkExportAtScale$$' -benchtime 1x -timeout 60m ./internal/store

histories:
	COUNTERSIGN_RECORD_HISTORIES=1 $(GO) test -count=1 -run 'TestPipelineSQLite|TestGoldOverHTTP|TestHumanGateOverHTTP|TestReviewHistories|TestSupervisorHistories|TestSOCAlertBurst|TestSlowWebhookDeliversAsActivity|TestDeliveryConflictFailsTheReview|TestReconcilerReplacesWhatIsNoSupervisor' ./internal/e2e
	$(GO) test -count=1 -run TestReplayRecordedHistories ./workflows

# The stores' queries are SQL, in internal/store/{postgres,sqlite}/dbsqlc/*.sql;
# sqlc (internal/store/sqlc.yaml) writes the Go code that runs them beside
# them, then sqlcsum records what it read and wrote in internal/store/sqlc.sum,
# so that a test (TestGeneratedCodeIsCurrent) finds code out of date without
# sqlc. The first run builds sqlc, which takes a minute or two and a C
# compiler (cgo: sqlc parses Postgres SQL with Postgres's own parser); go run
# keeps the build.
generate:
	cd internal/store && $(GO) run github.com/sqlc-dev/sqlc/cmd/sqlc@$(SQLC_VERSION) generate
	$(GO) run ./internal/store/sqlcsum

# Not in CI: it runs countersign whole for several minutes per seed.
# BENCH_ARGS passes flags, such as BENCH_ARGS="-seeds 1 -heldout 100".
BENCH_ARGS ?=
oversight-bench:
	@mkdir -p bin
	$(GO) run ./internal/oversightbench/cmd -commit $(VERSION) -json bin/oversight-bench.json $(BENCH_ARGS)

clean:
	rm -rf bin $(TOOLS)
