# The two commands a newcomer needs:
#   make run    the conformance suite against the default client on the embedded IdP
#   make test   the project's own tests (unit, integration, and the conformance run)
# Both install what is missing first (Chromium via apt-get, npm packages via npm ci).

GO      ?= go
ARGS    ?=
# Packages whose tests need neither Chromium nor the fixtures.
UNIT    := ./vocab/... ./timeline/... ./tlsca/... ./internal/... ./scenarios/... ./fakeidp/... ./fixtures/... ./certify/... ./target/...

.PHONY: run test setup unit fuzz integration lint build bench flake stress mutants clean

run: setup build
	bin/refreshsuite run $(ARGS)

test: setup lint unit fuzz integration

setup:
	@scripts/setup.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt wants to rewrite: $$out"; exit 1; fi
	$(GO) vet ./...

unit:
	$(GO) test -race -count=1 $(UNIT)
	$(GO) test -race -count=1 -short ./suite/

# Bounded fuzzing of the scenario loader and the IdP's /authorize and /token
# parameter handling; findings are kept in testdata/fuzz as regression seeds.
# Minimizing a new input may take a minute by default, which would eat the
# whole budget on the scenario files' large seeds: 2 s is enough.
FUZZTIME ?= 15s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzParse -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./scenarios
	$(GO) test -run '^$$' -fuzz FuzzEndpoints -fuzztime $(FUZZTIME) -fuzzminimizetime 2s ./fakeidp

# Real Chromium, the real client libraries, the refreshsuite command end to end
# (its tests include a full conformance run of both clients, deliberately
# broken clients, the mutants, shards and a real-clock subset). Two tests at
# a time: the main job beside the certification proofs, which mostly wait.
integration:
	$(GO) test -race -count=1 ./reports/... ./browser/...
	$(GO) test -count=1 -parallel 2 -timeout 40m ./cmd/...

# One binary with the suite and ginkgo's run command compiled in: it finds
# this checkout from bin/, so it runs from any folder. It carries the commit
# it was built at (refreshsuite version), stamped here since GOFLAGS may turn
# the go command's own stamping off (-buildvcs=false).
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null)
build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/refreshsuite ./cmd/refreshsuite

# Speed and memory figures (virtual vs real clock, spread of firing points over
# 5 virtual runs). Prints, never fails on a figure. About 7 minutes for the
# three shipped clients; one client alone:
#   make bench ARGS="-- -client fixtures/angular-oauth2-oidc/client.yaml"
bench: setup build
	$(GO) run ./cmd/refreshbench $(ARGS)

# The main job FLAKE_RUNS times in a row with a busy process on another core;
# prints the number of specs whose verdict changed (it must be 0). About 6
# minutes a run on 2 cores (two hours with the default 20); not part of make
# test.
FLAKE_RUNS ?= 20
flake: setup build
	bin/refreshsuite flake -runs $(FLAKE_RUNS) -load 1 $(ARGS)

# Every mutant against every scenario, on each scenario's own clock: the
# whole proof that no mutant breaks a spec its list does not name (make test
# runs each mutant in the containers its list names, on the virtual clock).
mutants: setup build
	bin/refreshsuite mutants $(ARGS)

# A make target (make test by default) with LOAD busy processes alongside,
# each keeping a core at 100%, as on a loaded CI machine: make test must pass
# with 4 of them on 2 cores. make stress STRESS_TARGET=unit LOAD=2 loads
# another target; scripts/busy.sh 4 go test -run X ./cmd/refreshsuite/ loads
# any command.
LOAD          ?= 4
STRESS_TARGET ?= test
stress:
	@scripts/busy.sh $(LOAD) $(MAKE) $(STRESS_TARGET)

clean:
	rm -rf bin reports/out fixtures/*/dist
