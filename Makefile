# Two commands on a fresh machine with Python 3.11+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= config/relay.toml

.PHONY: run test lint migrate policy-report dkim-bench upload-fairness bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

run: $(STAMP)
	$(BIN)/relay --config $(CONFIG) migrate
	$(BIN)/relay --config $(CONFIG) serve

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check relay tests tools

# Blind sets too: make policy-report POLICY_ARGS='--blind DIR'
policy-report: $(STAMP)
	$(BIN)/python -m tools.policy_report $(POLICY_ARGS)

dkim-bench: $(STAMP)
	$(BIN)/python -m tools.dkim_bench

upload-fairness: $(STAMP)
	$(BIN)/python -m tools.upload_fairness

# End-to-end figures against Postfix and aiosmtpd (minutes; not a test): make bench BENCH_ARGS=--quick
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

migrate: $(STAMP)
	$(BIN)/relay --config $(CONFIG) migrate

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
