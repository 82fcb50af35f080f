# caseledger — the two commands a newcomer needs are `make demo` and `make test` (see README.md).
SHELL := /bin/bash
GO    ?= go
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2
# Unit packages: everything except the integration tests under test/.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v '/test$$')

.PHONY: demo test check unit integration fault fabric up down status clean

## demo: build what is missing, bring the demo network, privacy services and gateways up, play the
## scenario through the gateways (cmd/demo) and leave everything running; again = new cases
demo: fabric
	$(GO) run ./cmd/demo

## test: everything CI runs — static checks, unit tests with the race detector, integration tests,
## and the fault tests on a network of their own
test: check unit integration fault

check:
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go')); if [[ -n $$out ]]; then echo "$$out"; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== staticcheck"; $(GO) run $(STATICCHECK) ./...

unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

integration: fabric
	$(GO) test -count=1 -timeout 20m ./test/...

## fault: SIGKILL and restart, then freeze (SIGSTOP 20 s), each kind of node under load; every
## acknowledged write must be on the ledger exactly once and no valid write refused for good (about
## 6 minutes; part of make test; docs/performance.md, "Faults under load" and "Grey failures")
fault: fabric
	CASELEDGER_FAULT_TESTS=1 $(GO) test -count=1 -timeout 30m -v -run 'TestFault|TestNoPersonalDataOnLedger' ./test/

## fabric: build the pinned Fabric binaries once (cached outside the clone)
fabric:
	@scripts/fabric-bins.sh >/dev/null

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
