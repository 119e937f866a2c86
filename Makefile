# Expertiza: `make run` starts the sync server (embedded PostgreSQL, demo
# data) and opens the desktop client; `make test` runs the whole suite.

SHELL := /bin/bash
GO ?= go
DATA ?= $(CURDIR)/.expertiza-demo
LISTEN ?= 127.0.0.1:8443
BIN := $(CURDIR)/bin
TAGS := migrated_fynedo
export LANG ?= C.UTF-8

# System packages: PostgreSQL server binaries for the embedded cluster, the
# C toolchain and X11/GL headers Fyne's desktop driver is built with, and
# Xvfb for running the client without a display; xdotool, xwd (x11-apps)
# and ImageMagick for `make screenshot`; MuPDF's mutool (mupdf-tools) for
# `make bench-render`; xmllint (libxml2-utils) validates the conclusion XML
# against docs/conclusion.xsd in tests.
APT_PACKAGES := postgresql gcc libc6-dev pkg-config libgl1-mesa-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth openssl libengine-gost-openssl curl poppler-utils libxml2-utils \
	xdotool x11-apps imagemagick xz-utils mupdf-tools

.PHONY: run test test-fast build deps bench bench-render bench-client soak-client fuzz vet clean

deps:
	@missing=$$(for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "installing: $$missing"; \
			apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
		else \
			echo "missing system packages; run:"; \
			echo "  sudo apt-get install -y $$missing"; \
			exit 1; \
		fi; \
	fi

build: deps
	$(GO) build -o $(BIN)/expertiza-server ./server/cmd/expertiza-server
	$(GO) build -tags $(TAGS) -o $(BIN)/expertiza .

run: build
	@mkdir -p $(DATA)
	$(BIN)/expertiza-server seed-demo --data $(DATA)
	@echo "demo accounts: $(DATA)/demo-credentials.txt"; cat $(DATA)/demo-credentials.txt
	@$(BIN)/expertiza-server serve --data $(DATA) --listen $(LISTEN) & server=$$!; \
	trap 'kill $$server 2>/dev/null; wait $$server' EXIT INT TERM; \
	for i in $$(seq 1 100); do curl -sf http://$(LISTEN)/readyz >/dev/null 2>&1 && break; sleep 0.2; done; \
	if [ -z "$$DISPLAY" ] && [ -z "$$WAYLAND_DISPLAY" ]; then \
		echo "no display: starting the client under Xvfb"; \
		EXPERTIZA_SERVER=http://$(LISTEN) xvfb-run -a $(BIN)/expertiza; \
	else \
		EXPERTIZA_SERVER=http://$(LISTEN) $(BIN)/expertiza; \
	fi

vet:
	CGO_ENABLED=0 $(GO) vet -tags ci,$(TAGS) ./...
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo "gofmt needed"; exit 1; }

# The whole suite: vet and gofmt, every test with the race detector against
# throwaway PostgreSQL clusters (UI tests on Fyne's headless driver), a
# short fuzz pass over the untrusted-input parsers, and one build of the
# real desktop binary. The fuzz passes of server/httpapi, realtime and
# service (8 s each, about 80 s in all with their test clusters' start-up)
# cover the JSON commands, query filters, Range downloads, WebSocket frames
# and the payment gateway's signature.
test: deps vet
# The short fuzz passes count executions (-fuzztime=Nx), not seconds: when a
# time limit ends during the minimisation of a new input, Go's fuzzer
# reports "context deadline exceeded" as a failure (seen in CI).
	$(GO) test -race -count=1 -tags ci,$(TAGS) ./...
	$(GO) test -run='^$$' -fuzz=FuzzValidateINN -fuzztime=400000x ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateOGRN -fuzztime=400000x ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateSNILS -fuzztime=400000x ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzDetect -fuzztime=80000x ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=400000x ./server/sig
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCommand$$' -fuzztime=40000x ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzAuditQuery$$' -fuzztime=40000x ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzReportQuery$$' -fuzztime=40000x ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzDownloadRange$$' -fuzztime=40000x ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzClientFrame$$' -fuzztime=40000x ./server/realtime
	$(GO) test -run='^$$' -fuzz='^FuzzPaymentSignature$$' -fuzztime=40000x ./server/service
	$(GO) build -o $(BIN)/expertiza-server ./server/cmd/expertiza-server
	$(GO) build -tags $(TAGS) -o $(BIN)/expertiza .

# Every benchmark of the project in one run (about 6 minutes on 2 idle
# cores, 15 at most on a busy machine with a cold build cache), then one
# table of figures beside their references measured in the same run
# (bench/README.md): stdout, bench/out/results.md and results.png; the raw
# output stays in bench/out/bench.txt. A failing benchmark does not stop the
# others; the table lists it and `make bench` fails at the end. The client
# soak is not part of it (`bench-client`, `soak-client`). pgbench, the
# reference of command throughput, comes with the postgresql package.
BENCH_OUT := bench/out
BENCH_FLAGS := -run='^$$' -count=1 -vet=off -timeout=30m
# Packages with benchmarks not run by a target of their own, found afresh.
BENCH_REST = $(filter-out ./server/bench ./app/pdfrender/pdfium ./ui ./app,$(sort $(patsubst %/,%,$(dir \
	$(shell git ls-files -co --exclude-standard '*_test.go' 2>/dev/null | xargs -r grep -l '^func Benchmark' 2>/dev/null | sed 's|^|./|')))))
.PHONY: bench-server bench-client-figures bench-rest
bench: deps
	@mkdir -p $(BENCH_OUT) && rm -f $(BENCH_OUT)/bench.txt $(BENCH_OUT)/results.md $(BENCH_OUT)/results.png && date +%s > $(BENCH_OUT)/started
	@$(MAKE) --no-print-directory bench-server bench-client-figures bench-render bench-rest \
		BENCH_LOG='2>&1 | tee -a $(BENCH_OUT)/bench.txt' || true
	$(GO) run ./bench/cmd/benchtable -in $(BENCH_OUT)/bench.txt -out $(BENCH_OUT) -started $$(cat $(BENCH_OUT)/started)

# The sync server: fan-out over 1,000 WebSocket clients and memory per idle
# connection with 10,000 open (each against a bare gorilla/websocket
# server), cross-process commit-to-delivery latency, command throughput
# (against pgbench writing the same rows), a 500 MB upload against curl PUT
# to a plain file server, validation of a 300 MB, 500-page PDF against
# poppler's pdfinfo.
bench-server: deps
	$(GO) test $(BENCH_FLAGS) -bench='^Benchmark(Fanout1000|CrossServer)' -benchtime=100x ./server/bench/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='^BenchmarkCommands' -benchtime=4000x ./server/bench/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='^BenchmarkWSIdle10k' -benchtime=1x ./server/bench/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='^BenchmarkUpload' -benchtime=2x ./server/bench/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='^BenchmarkIngest' -benchtime=3x ./server/bench/ $(BENCH_LOG)

# The desktop client core against a real in-process server: cold start
# from a warm cache of 10,000 applications, catching up on 1,000 changes
# made while closed, draining 1,000 commands queued offline (against the
# same messages posted directly); the 10,000-row applications table on
# Fyne's headless driver against a 60 Hz frame; then (bench-client only) a
# 2-minute scripted session sampling the client process's memory
# (`soak-client`: 60 min).
bench-client-figures: deps
	$(GO) test $(BENCH_FLAGS) -bench='ClientColdStart|ClientCatchUp1000' -benchtime=5x ./server/bench/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='OutboxReplay1000' -benchtime=2x ./server/bench/ $(BENCH_LOG)
	CGO_ENABLED=0 $(GO) test -tags ci,$(TAGS) $(BENCH_FLAGS) -bench='Apps' ./ui/ $(BENCH_LOG)

bench-client: bench-client-figures
	EXPERTIZA_SOAK_CLIENT=2m $(GO) test -run='^TestClientSoak$$' -v -count=1 -timeout=15m ./server/bench/

# Everything else, one package at a time (PDF writing, annotated export,
# mail, audit list and reports, annotation round trip, letters, ...).
bench-rest: deps
	$(GO) test $(BENCH_FLAGS) -p 1 -bench=. -benchtime=1s $(BENCH_REST) $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench=. -skip='^BenchmarkViewer' -benchtime=1s ./app/ $(BENCH_LOG)

soak-client: deps
	EXPERTIZA_SOAK_CLIENT=60m $(GO) test -run='^TestClientSoak$$' -v -count=1 -timeout=80m ./server/bench/

# Load test: 1,500 simulated users (one in five an expert) for 10 minutes
# against a real server process on loopback, started on a fresh data folder
# (embedded PostgreSQL). Each signs in (experts with TOTP) from its own
# loopback address, holds a WebSocket stream and, with think times, posts
# in chats, marks them read, moves applications between review and remarks,
# creates, changes and deletes annotations, and downloads files (verified).
# Reports p50/p99/p99.9 per operation, command-to-stream delivery to every
# entitled user, errors by code, and the server's RSS every 10 s (stdout,
# bench/out/load.json, load.md); fails on any error or lost event.
# `load-ci` is the short run CI makes; `soak-load` runs the same for an
# hour, and `soak` runs it beside the fault suite at scale (below).
LOAD_USERS ?= 1500
LOAD_DURATION ?= 10m
LOAD_FLAGS ?=
.PHONY: load load-ci soak-load load-bins
load: deps load-bins
	$(BIN)/expertiza-loadgen --server-bin $(BIN)/expertiza-server --users $(LOAD_USERS) --duration $(LOAD_DURATION) --out bench/out $(LOAD_FLAGS)

load-ci: deps load-bins
	$(BIN)/expertiza-loadgen --server-bin $(BIN)/expertiza-server --users 150 --duration 45s --rate 6 --out bench/out --name load-ci

soak-load: deps load-bins
	$(BIN)/expertiza-loadgen --server-bin $(BIN)/expertiza-server --users $(LOAD_USERS) --duration 60m --out bench/out --name soak $(LOAD_FLAGS)

load-bins:
	$(GO) build -o $(BIN)/expertiza-server ./server/cmd/expertiza-server
	$(GO) build -o $(BIN)/expertiza-loadgen ./server/cmd/expertiza-loadgen

# Fault tests (server/fault) at scale: EXPERTIZA_FAULT_SCALE multiplies
# rounds and counts (SIGKILL during write bursts, immediate PostgreSQL stops,
# responses cut after commit, server restarts under 1,000 clients), and the
# desktop client stays offline for SOAK_CUT. Meanwhile the load generator
# drives a server of its own on the same machine (LOAD_USERS users for
# SOAK_LOAD, an hour); fails if either fails. `make soak` is this. Reports:
# artifacts/soak. In CI the same
# suite runs at scale 1: `go test ./server/fault/` (about two minutes).
SOAK_SCALE ?= 10
SOAK_CUT ?= 3m
SOAK_LOAD ?= 60m
.PHONY: soak soak-fault
soak: soak-fault
soak-fault: deps load-bins
	@mkdir -p artifacts/soak
	@$(BIN)/expertiza-loadgen --server-bin $(BIN)/expertiza-server --users $(LOAD_USERS) --duration $(SOAK_LOAD) \
		--out artifacts/soak --name soak-load --note "run beside the fault suite at scale $(SOAK_SCALE)" $(LOAD_FLAGS) & lg=$$!; \
	EXPERTIZA_FAULT_SCALE=$(SOAK_SCALE) EXPERTIZA_FAULT_CUT=$(SOAK_CUT) \
		$(GO) test -run . -count=1 -v -timeout=90m ./server/fault/ 2>&1 | tee artifacts/soak/fault.log; fault=$${PIPESTATUS[0]}; \
	wait $$lg; load=$$?; \
	echo "soak-fault: fault suite exit $$fault, load generator exit $$load (reports in artifacts/soak)"; \
	test $$fault = 0 && test $$load = 0

# PDF rendering (go-pdfium in wasm) against pdftoppm and mutool on the same
# pages at the same DPI in one run: start with and without the compilation
# cache, page and 512 px tile on a text page, an A1 drawing and a scan, open
# to first page of a 500-page volume, an A1 pan at 200%, RSS; ratios reported.
# Then the same two through the viewer session (app.Viewer + TileLoader):
# open a 500-page volume to its first screen's tiles, and an A1 pan at 200%.
bench-render: deps
	$(GO) test $(BENCH_FLAGS) -bench='Startup|RSS500' -benchtime=1x ./app/pdfrender/pdfium/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='VsTools|OpenToFirstPage|PanA1' -benchtime=5x ./app/pdfrender/pdfium/ $(BENCH_LOG)
	$(GO) test $(BENCH_FLAGS) -bench='^BenchmarkViewer' -benchtime=5x ./app/ $(BENCH_LOG)

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDetect -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckXML -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckZip -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=2m ./server/sig
	$(GO) test -run='^$$' -fuzz=FuzzValidateINN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateOGRN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateSNILS -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz='^FuzzDecodeCommand$$' -fuzztime=2m ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzAuditQuery$$' -fuzztime=2m ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzReportQuery$$' -fuzztime=2m ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzDownloadRange$$' -fuzztime=2m ./server/httpapi
	$(GO) test -run='^$$' -fuzz='^FuzzClientFrame$$' -fuzztime=2m ./server/realtime
	$(GO) test -run='^$$' -fuzz='^FuzzPaymentSignature$$' -fuzztime=2m ./server/service

# Signs in to the real desktop client as the demo applicant under Xvfb
# (throwaway server, data and home) and saves artifacts/screenshot.png;
# fails unless the server recorded the sign-in.
.PHONY: screenshot
screenshot: build
	bash scripts/screenshot.sh

# The Linux archive applicants install from (README, "Desktop package for
# Linux"): `fyne package` builds a release binary with the
# metadata of FyneApp.toml and packs it with its .desktop file, icon and a
# Makefile. fyne bumps Build in FyneApp.toml after each run; the file is
# put back, so build numbers change only when someone edits it.
FYNE_TOOLS_VERSION := v1.7.4
APP_NAME = $(shell sed -n 's/^Name = "\(.*\)"$$/\1/p' FyneApp.toml)
APP_VERSION = $(shell sed -n 's/^Version = "\(.*\)"$$/\1/p' FyneApp.toml)
PACKAGE_OUT = $(CURDIR)/artifacts/expertiza-$(APP_VERSION)-linux-$(shell $(GO) env GOARCH).tar.xz

.PHONY: package
package: deps
	@$(BIN)/fyne version 2>/dev/null | grep -qF $(FYNE_TOOLS_VERSION) || \
		GOBIN=$(BIN) $(GO) install fyne.io/tools/cmd/fyne@$(FYNE_TOOLS_VERSION)
	@saved=$$(mktemp) && cp FyneApp.toml $$saved && \
	trap 'cp '$$saved' FyneApp.toml; rm -f '$$saved EXIT && \
	rm -f "$(APP_NAME).tar.xz" && \
	$(BIN)/fyne package --os linux --release && \
	mkdir -p $(dir $(PACKAGE_OUT)) && mv "$(APP_NAME).tar.xz" $(PACKAGE_OUT)
	@echo "package: $(PACKAGE_OUT)"; tar -tJvf $(PACKAGE_OUT)

clean:
	rm -rf $(BIN)
