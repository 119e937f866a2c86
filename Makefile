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
bench: deps bench-client
	$(GO) test -run='^$$' -bench='Fanout|CrossServer' -benchtime=50x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Commands -benchtime=2000x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Upload -benchtime=2x -count=1 ./server/bench/
	$(GO) test -run='^$$' -bench=Ingest -benchtime=3x -count=1 ./server/bench/

# The desktop client core against a real in-process server: cold start
# from a warm cache of 10,000 applications, catching up on 1,000 changes
# made while closed, draining 1,000 commands queued offline (against the
# same messages posted directly); the 10,000-row applications table on
# Fyne's headless driver against a 60 Hz frame; a 2-minute scripted
# session sampling the client process's memory (`soak-client`: 60 min).
bench-client: deps
	$(GO) test -run='^$$' -bench='ClientColdStart|ClientCatchUp1000' -benchtime=5x -count=1 -timeout=30m ./server/bench/
	$(GO) test -run='^$$' -bench='OutboxReplay1000' -benchtime=2x -count=1 -timeout=30m ./server/bench/
	CGO_ENABLED=0 $(GO) test -tags ci,$(TAGS) -run='^$$' -bench='Apps' -count=1 ./ui/
	EXPERTIZA_SOAK_CLIENT=2m $(GO) test -run='^TestClientSoak$$' -v -count=1 -timeout=15m ./server/bench/

soak-client: deps
	EXPERTIZA_SOAK_CLIENT=60m $(GO) test -run='^TestClientSoak$$' -v -count=1 -timeout=80m ./server/bench/

# PDF rendering (go-pdfium in wasm) against pdftoppm and mutool on the same
# pages at the same DPI in one run: start with and without the compilation
# cache, page and 512 px tile on a text page, an A1 drawing and a scan, open
# to first page of a 500-page volume, an A1 pan at 200%, RSS; ratios reported.
# Then the same two through the viewer session (app.Viewer + TileLoader):
# open a 500-page volume to its first screen's tiles, and an A1 pan at 200%.
bench-render: deps
	$(GO) test -run='^$$' -bench='Startup|RSS500' -benchtime=1x -count=1 ./app/pdfrender/pdfium/
	$(GO) test -run='^$$' -bench='VsTools|OpenToFirstPage|PanA1' -benchtime=5x -count=1 ./app/pdfrender/pdfium/
	$(GO) test -run='^$$' -bench='Viewer' -benchtime=5x -count=1 ./app/

fuzz:
	$(GO) test -run='^$$' -fuzz=FuzzDetect -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckXML -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheckZip -fuzztime=2m ./server/validate
	$(GO) test -run='^$$' -fuzz=FuzzCheck -fuzztime=2m ./server/sig
	$(GO) test -run='^$$' -fuzz=FuzzValidateINN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateOGRN -fuzztime=2m ./sync/wire
	$(GO) test -run='^$$' -fuzz=FuzzValidateSNILS -fuzztime=2m ./sync/wire

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
