PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: install demo experiment test lint bench clean stack-up stack-down

$(STAMP): requirements.lock pyproject.toml packages/personalize-metrics/pyproject.toml \
		packages/personalize-local/pyproject.toml
	test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q uv==0.13.8
	$(BIN)/uv pip sync -q --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install -q --python $(BIN)/python --no-deps \
		-e . -e packages/personalize-metrics -e packages/personalize-local
	$(BIN)/python -c "import airflow, pyarrow, duckdb, pandas, great_expectations, personalize_local, personalize_metrics" >/dev/null
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/python -m stack.demo $(USE_CASE)

experiment: install
	$(BIN)/python -m stack.experiment $(USE_CASE)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

test: lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	$(BIN)/python -m bench.run

# The full stack natively (README "The full stack"): Postgres metadata DB, Celery on Redis, worker,
# triggerer, scheduler, dag-processor, api-server on localhost:8080, personalize-local; under build/stack/.
stack-up: install
	$(BIN)/python -m stack.native up

stack-down:
	$(BIN)/python -m stack.native down

clean:
	rm -rf build $(VENV)
