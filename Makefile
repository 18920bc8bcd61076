# Two commands on a fresh machine with Python 3.11+ and make: `make run`, `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
CONFIG ?= config/relay.toml

.PHONY: run test lint lock migrate policy-report contact-model dkim-bench upload-fairness web-bench bench clean

# Dependencies come from the lock (exact versions, hashes checked); the project itself is
# installed editable on top, without resolving anything again.
$(STAMP): pyproject.toml requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (set PYTHON=...)")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

run: $(STAMP)
	$(BIN)/relay --config $(CONFIG) migrate
	$(BIN)/relay --config $(CONFIG) serve

# Much of the suite's time is spent waiting (sockets, timers, child processes), so it runs in
# one pytest-xdist worker per core (more would crowd the tests that start relay processes); a
# test file stays on one worker (its module fixtures run once). TEST_WORKERS=0: one process.
TEST_WORKERS ?= $(shell $(PYTHON) -c 'import os; print(len(os.sched_getaffinity(0)))')
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile

# Refresh the locks from pyproject.toml: requirements.lock (what the relay runs on: the Docker
# image) and requirements-dev.lock (that plus the test tools: make run, make test, CI).
LOCK = $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --no-emit-index-url \
	--no-emit-find-links --allow-unsafe
lock: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-tools
	$(LOCK) --output-file requirements.lock pyproject.toml
	$(LOCK) --extra dev --output-file requirements-dev.lock pyproject.toml

lint: $(STAMP)
	$(BIN)/ruff check relay tests tools

# Blind sets too: make policy-report POLICY_ARGS='--blind DIR'
policy-report: $(STAMP)
	$(BIN)/python -m tools.policy_report $(POLICY_ARGS)

# Train the contact model (relay/rules/contact_model.py) on tests/data/policy again; after a
# change to the corpus or to what the rules mask. `TRAIN_ARGS='--hold SET'` measures instead.
contact-model: $(STAMP)
	$(BIN)/python -m tools.train_contact_model $(TRAIN_ARGS)

dkim-bench: $(STAMP)
	$(BIN)/python -m tools.dkim_bench

upload-fairness: $(STAMP)
	$(BIN)/python -m tools.upload_fairness

# The web message center's pages with 10,000 conversations (WEB_BENCH_ARGS=N for another count)
web-bench: $(STAMP)
	$(BIN)/python -m tools.web_bench $(WEB_BENCH_ARGS)

# End-to-end figures against Postfix and aiosmtpd (minutes; not a test): make bench BENCH_ARGS=--quick
bench: $(STAMP)
	$(BIN)/python -m tools.bench $(BENCH_ARGS)

migrate: $(STAMP)
	$(BIN)/relay --config $(CONFIG) migrate

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
