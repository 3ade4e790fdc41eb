# Engineering @ Scale CMS. `make dev` brings it up; `make test` runs lint and the tests.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin

.PHONY: dev test lint install node-tools system-deps bench bench-smoke bench-admin bench-reader load audit clean

dev: install
	./bin/dev

# Against PostgreSQL (DATABASE_URL set, as in CI), two test processes (pytest-xdist): browser,
# worker and server tests wait on I/O much of the time; each process has its own test
# database, Redis database and media folder. The quick start's SQLite runs in one process.
TEST_WORKERS ?= $(if $(DATABASE_URL),2,0)

test: system-deps install node-tools lint
	$(BIN)/pytest -n $(TEST_WORKERS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

install: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@

# npm dev tools for the reader checks (axe-core, the Nu Html Checker), exactly as locked;
# the quick start does not need them. --ignore-scripts: vnu-jar's install script would
# download a Java, and the machine's is used instead.
node-tools: node_modules/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --ignore-scripts --no-audit --no-fund
	touch $@

# Debian packages the tests drive (Chromium, poppler); installed when missing.
system-deps:
	./bin/system-deps

# Benchmarks: one table of every figure against its budget, written to bench/results/
# (see README, "Benchmarks"). PostgreSQL and Redis on 127.0.0.1; BENCH_SCALE=10 for
# 52,000 stories, BENCH_DATABASE_URL to use another database than digest_bench.
bench: install system-deps
	$(BIN)/python bench/run.py

# Only the admin pages' medians, to compare an admin change before and after (bench/results/admin-scale-N.json).
bench-admin: install
	$(BIN)/python bench/run.py --admin --scale $(or $(BENCH_SCALE),1)

# Only the reader pages' medians (bench/results/reader-scale-N.json).
bench-reader: install
	$(BIN)/python bench/run.py --reader --scale $(or $(BENCH_SCALE),1)

# The same harness on tiny data, one round each: fails on errors, never on budgets (CI).
bench-smoke: install system-deps
	$(BIN)/python bench/run.py --smoke

# Known vulnerabilities in the pinned requirements (and what they pull in), from PyPI's
# advisory data. --strict: a package that could not be audited (the vulnerability service
# unreachable) fails the run, so it never reports "no known vulnerabilities" untruthfully.
# Not in .ci/run: CI's machine cannot reach a vulnerability service.
audit: install
	$(BIN)/pip-audit --strict --progress-spinner off -r requirements-dev.txt

# A bounded load test (at most 60 s, loopback only): readers under wrk while a publisher
# publishes and corrects an issue; needs PostgreSQL and Redis on 127.0.0.1 (see README).
load: install system-deps
	$(BIN)/python bench/load.py

clean:
	rm -rf var/ .pytest_cache .ruff_cache
