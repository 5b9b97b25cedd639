# Developers and CI run the same commands: `make serve`, `make test` (which runs `make check` first).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
PYTEST_ARGS ?=

.PHONY: install serve check test test-sqlite test-postgres format bench clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

serve: install
	$(BIN)/costcodes serve

check: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

test: check test-sqlite test-postgres

test-sqlite: install
	@echo "== test suite on SQLite =="
	env -u TEST_DATABASE_URL $(BIN)/pytest --cov --cov-report=term:skip-covered --cov-fail-under=90 $(PYTEST_ARGS)

# PostgreSQL runs when TEST_DATABASE_URL is set or one answers at 127.0.0.1:5432.
test-postgres: install
	@url="$${TEST_DATABASE_URL:-}"; \
	if [ -z "$$url" ] && $(BIN)/python -c "import socket; socket.create_connection(('127.0.0.1', 5432), 2)" 2>/dev/null; then url="$(PG_URL)"; fi; \
	if [ -n "$$url" ]; then \
		echo "== test suite on PostgreSQL ($$url) =="; \
		TEST_DATABASE_URL="$$url" $(BIN)/pytest $(PYTEST_ARGS); \
	else \
		echo "== PostgreSQL not reachable at 127.0.0.1:5432 and TEST_DATABASE_URL unset: suite ran on SQLite only =="; \
	fi

bench: install
	$(BIN)/python bench/import_codes.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .coverage var
