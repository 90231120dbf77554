# Two entry points for newcomers: `make demo` and `make test`. Both bootstrap uv with pip when it
# is missing and install the locked environment (uv.lock) into .venv, compiled to bytecode (a
# fresh worker process per task must not compile the guard's modules first).
SHELL := /bin/bash
UV := $(shell command -v uv 2>/dev/null || echo "$(HOME)/.local/bin/uv")
VENV := .venv
PY := $(VENV)/bin/python

.PHONY: demo test lint typecheck pytest bench setup browser

setup:
	@command -v uv >/dev/null 2>&1 || [ -x "$(UV)" ] || python3 -m pip install --quiet --user uv
	@$(UV) sync --frozen --all-extras --compile-bytecode --quiet

demo: setup
	@$(PY) dags_examples/demo.py
	@$(PY) dags_examples/run_airflow_demo.py
	@$(PY) dags_examples/run_prefect_demo.py
	@$(PY) dags_examples/copilot_demo.py

lint: setup
	@$(VENV)/bin/ruff check .
	@$(VENV)/bin/ruff format --check .
	@$(VENV)/bin/vulture

# core/ installs as guardrails_core; mypy sees it under that name through a symlink. The
# README's Python samples are checked too, as a user's mypy would see them.
typecheck: setup
	@mkdir -p .typecheck && ln -sfn ../core .typecheck/guardrails_core
	@$(PY) .ci/readme_samples.py .typecheck-readme
	@MYPYPATH=.typecheck $(VENV)/bin/mypy --strict -p guardrails_core -p airflow_guardrails -p prefect_guardrails
	@MYPYPATH=.typecheck $(VENV)/bin/mypy --strict .typecheck-readme

# The Airflow UI test drives Debian's headless Chromium: installed here when missing.
browser:
	@bash .ci/install_chromium.sh

# Two pytest processes side by side: the suites that mostly wait on other processes (fresh pip
# installs, deployed Airflow stacks, dbt through Cosmos, the README's samples) beside the rest,
# which mostly computes. Each has its own session (temporary Airflow home, databases and tables
# of its own); the waiting group's output is printed after the other's.
WAITING := tests/packaging tests/e2e tests/test_readme.py tests/airflow/test_cosmos.py
pytest: setup browser
	@$(PY) -m pytest -q -p no:cacheprovider $(WAITING) > .pytest-waiting.log 2>&1 & waiting=$$!; \
	$(PY) -m pytest -q $(addprefix --ignore=,$(WAITING)); computing=$$?; \
	wait $$waiting; waited=$$?; \
	echo "== $(WAITING)"; cat .pytest-waiting.log; \
	exit $$(( computing || waited ))

test: lint typecheck pytest

bench: setup
	@$(PY) benchmarks/analyzer.py
	@$(PY) benchmarks/analyzer.py --pure-sqlglot
	@$(PY) benchmarks/audit.py
	@$(PY) benchmarks/undo.py
	@$(PY) benchmarks/prefect_overhead.py
	@$(PY) benchmarks/airflow_overhead.py
	@$(PY) benchmarks/impact.py
	@$(PY) benchmarks/mcp_latency.py
	@$(PY) benchmarks/cli_startup.py
	@$(PY) benchmarks/gate.py
	@$(PY) benchmarks/dbt_overhead.py
	@$(PY) benchmarks/worker_cost.py
	@$(PY) benchmarks/worker_fork.py
