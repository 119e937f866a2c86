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
# Xvfb for running the client without a display.
APT_PACKAGES := postgresql gcc libc6-dev pkg-config libgl1-mesa-dev libxcursor-dev \
	libxrandr-dev libxinerama-dev libxi-dev libxxf86vm-dev xvfb xauth openssl libengine-gost-openssl curl poppler-utils

.PHONY: run test test-fast build deps bench fuzz vet clean

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
# real desktop binary.
test: deps vet
	$(GO) test -race -count=1 -tags ci,$(TAGS) ./...
	$(GO) test -run='^$$' -fuzz=FuzzValidateINN -fuzztime=10s ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateOGRN -fuzztime=10s ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateSNILS -fuzztime=10s ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzDetect -fuzztime=10s ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=10s ./server/sig
	$(GO) build -o $(BIN)/expertiza-server ./server/cmd/expertiza-server
	$(GO) build -tags $(TAGS) -o $(BIN)/expertiza .

# Benchmarks: fan-out latency over 1,000 WebSocket clients, cross-process
# commit-to-delivery latency, command throughput, a 500 MB upload against
# curl PUT to a plain file server, and validation of a 300 MB, 500-page
# PDF against poppler's pdfinfo, each pair in the same run.
bench: deps
	$(GO) test -run='^$$' -bench='Fanout|CrossServer' -benchtime=50x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Commands -benchtime=2000x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Upload -benchtime=2x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Ingest -benchtime=3x -count=1 ./server/bench/

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDetect -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckXML -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckZip -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=2m ./server/sig
	$(GO) test -run='^$$' -fuzz=FuzzValidateINN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateOGRN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateSNILS -fuzztime=2m ./sync/wire

clean:
	rm -rf $(BIN)
