# caseledger — the two commands a newcomer needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
GO    ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# The tests of test/ run twice: in-process with everything else under a plain `go test ./...`
# (make unit), and on a real Fabric network with the integration tag (make integration, make fault).
IT_TAGS := -tags integration

.PHONY: demo test check unit integration multihost fault fabric up down status clean

## demo: build what is missing, bring the demo network, privacy services and gateways up, play the
## scenario through the gateways (cmd/demo) and leave everything running; again = new cases
demo: fabric
	$(GO) run ./cmd/demo

## test: everything CI runs — static checks, unit tests with the race detector, integration tests,
## and the fault tests on a network of their own
test: check unit integration multihost fault

check:
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n $$out ]]; then echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./... && $(GO) vet $(IT_TAGS) ./test/...
	@echo "== staticcheck"; $(GO) run $(STATICCHECK) ./... && $(GO) run $(STATICCHECK) $(IT_TAGS) ./test/...
	@echo "== an API client links none of the server"; $(MAKE) --no-print-directory client-deps

# client-deps: an agency's API client (client/...) speaks the wire vocabulary (api/) and links no
# server code: no Badger, Fabric, gRPC or Prometheus, no gateway, chaincode, network or privacy service.
CLIENT_FORBIDDEN := badger|hyperledger|google\.golang\.org/grpc|prometheus|caseledger/caseledger/(gateway|chaincode|network|privacy-service)(/|$$)
.PHONY: client-deps
client-deps:
	@bad=$$($(GO) list -deps ./client/... | grep -E '$(CLIENT_FORBIDDEN)'); \
	if [[ -n $$bad ]]; then echo "client depends on server packages:"; echo "$$bad"; exit 1; fi

## unit: every package with the race detector, test/ on agencies in this process (no Fabric)
unit:
	$(GO) test -race -count=1 ./...

## integration: the tests of test/ on a real network (the same bodies as in make unit, and those
## only a real network can run), then the scan of every block, ledger file and log
integration: fabric axe-core
	$(GO) test $(IT_TAGS) -count=1 -timeout 20m $$($(GO) list ./test/... | grep -v /test/multihost)

## multihost: every organisation on a host of its own (Linux network namespaces, needs root): the
## network from per-org bundles, an agency's link cut under load and healed (test/multihost, ~75 s;
## after integration, not beside it, so the two networks do not share the 2 cores)
multihost: fabric
	$(GO) test $(IT_TAGS) -count=1 -timeout 20m -v ./test/multihost/

## fault: SIGKILL and restart, then freeze (SIGSTOP 20 s), each kind of node under load; every
## acknowledged write must be on the ledger exactly once and no valid write refused for good (about
## 6 minutes; part of make test; docs/performance.md, "Faults under load" and "Grey failures")
fault: fabric
	CASELEDGER_FAULT_TESTS=1 $(GO) test $(IT_TAGS) -count=1 -timeout 30m -v -run 'TestFault|TestNoPersonalDataOnLedger' ./test/

## perf-visibility: throughput, latency and CPU per write before the visibility policy (details as
## public arguments, chaincode servers restarted with refusePublicDetails off) and after it (transient
## map, private data), alternated ABBA on one fresh demo network (docs/performance.md, "Need to know";
## about 8 minutes; PERF_BASEPORT moves its ports, PERF_ARGS adds loadgen flags, e.g. --rate 40)
PERF_BASEPORT ?= 0
.PHONY: perf-visibility
perf-visibility: fabric
	$(GO) run ./cmd/loadgen --fresh --base-port $(PERF_BASEPORT) --drivers bare-public,bare --workers 64 --rounds 4 --duration 30s $(PERF_ARGS)

## fabric: build the pinned Fabric binaries once (cached outside the clone)
fabric:
	@scripts/fabric-bins.sh >/dev/null

## axe-core: fetch the pinned axe-core (version and SHA-512 in scripts/axe-core.sh; MPL-2.0) once
## with npm into the same cache; the console's browser test injects it into every page
.PHONY: axe-core
axe-core:
	@scripts/axe-core.sh >/dev/null

up: fabric
	$(GO) run ./cmd/netctl up
down:
	$(GO) run ./cmd/netctl down
.PHONY: stop
stop: down
status:
	$(GO) run ./cmd/netctl status
## clean: stop the demo and delete its data
clean:
	$(GO) run ./cmd/netctl down --purge
