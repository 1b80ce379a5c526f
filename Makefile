# One place for every set-up step: a fresh machine needs only Python 3.11 and make.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: demo test check lint typecheck contracts sim crash bench bench-tools faults lock clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test,bench]'
	touch $(STAMP)

## make demo: simulator + forwarder + cashier UI on a throw-away state directory
demo: $(STAMP)
	$(BIN)/terminal-agent demo

## make test: the whole suite, in TEST_WORKERS processes (pytest-xdist; most of the suite waits on
## real servers, processes and terminals rather than computing, so 4 fit 2 cores; 0 = one process)
TEST_WORKERS ?= 4
test: $(STAMP)
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(TEST_WORKERS)

lint: $(STAMP)
	$(BIN)/ruff check terminal_agent devices tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

## make contracts: the import contracts of pyproject.toml ([tool.importlinter]), e.g. only the UI
## imports textual, the UI never reaches protocol, switch or devices
contracts: $(STAMP)
	$(BIN)/lint-imports --no-cache

## make check: lint, type check, import contracts, tests (what CI runs)
check: lint typecheck contracts test

sim: $(STAMP)
	$(BIN)/terminal-agent sim --host 127.0.0.1 --port 8080

## make crash: the crash matrix (till + forward on one database) at 1,000 SIGKILLs
crash: $(STAMP)
	CRASH_KILLS=$${CRASH_KILLS:-1000} $(BIN)/python -m pytest -q -p no:cacheprovider -s tests/test_crash_matrix.py -o timeout=6000

## make bench: the performance table, the herd after an outage, what the cashier feels
bench: $(STAMP) bench-tools
	$(BIN)/python -m bench.run
	$(BIN)/python -m bench.herd
	$(BIN)/python -m bench.cashier

# tmux (a real terminal for bench.cashier) and prometheus (scrapes bench.herd's real run for
# the dashboard picture): installed with apt-get when root; the figures needing them are skipped
# otherwise.
bench-tools:
	@if ! command -v tmux >/dev/null || ! command -v prometheus >/dev/null; then \
	    if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	        (apt-get update -qq && apt-get install -y -qq --no-install-recommends tmux prometheus >/dev/null) \
	            || echo "could not install tmux/prometheus"; \
	    else echo "tmux or prometheus missing (not root): those figures are skipped"; fi; \
	fi

faults: $(STAMP)
	$(BIN)/python -m bench.faults

## make lock: systemd/requirements.lock (install.sh's dependencies, pinned with sha256)
lock: $(STAMP)
	$(BIN)/python systemd/make_lock.py

clean:
	rm -rf $(VENV) build *.egg-info
