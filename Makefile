# DiscussIt: one line per target. `make run` serves the app; `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test check install system-packages bench lint types imports format browser clean settings-table

run: install .secret_key  ## set up and serve http://127.0.0.1:8000 (SQLite file + in-process broker)
	SECRET_KEY="$$(cat .secret_key)" TEMPLATES_RELOAD=true $(BIN)/uvicorn discussit.app:create_app --factory --host 127.0.0.1 --port $(PORT) --ws websockets-sansio --ws-max-size 65536 --ws-per-message-deflate false --http discussit.core.security.slowclients:GuardedHttpProtocol --limit-concurrency 12000 --timeout-graceful-shutdown 20

test: install system-packages check  ## the full gate: `make check`, then the browser and slow tests on the embedded default, then every test on PostgreSQL + Redis (but the pure and frontend ones); two at a time, but the serial ones
	$(BIN)/pytest -n 2 -m "not services and (browser or slow) and not serial"
	$(BIN)/pytest -m "not services and (browser or slow) and serial"
	bash .ci/services.sh run bash -c '$(BIN)/pytest -n 2 -m "not pure and not frontend and not serial" && $(BIN)/pytest -m "not pure and not frontend and serial"'

check: lint imports  ## under a minute on 2 cores, no browser or services: format, lint, import layers, then types beside the fast tests (three workers: their waits leave a core idle)
	rm -f test-artifacts/checklist-summary-*.json  # (each pass of this run adds its figures)
	$(BIN)/mypy & types=$$!; \
	$(BIN)/pytest -q -n 3 -p no:cacheprovider -m "not browser and not services and not slow"; tests=$$?; \
	wait $$types && exit $$tests

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

system-packages:  ## Debian's chromium, postgresql and redis-server for the tests (apt-get; needs root)
	bash .ci/system-packages.sh

.secret_key:  ## a random local secret for `make run`, kept out of git
	python3 -c 'import secrets; print(secrets.token_urlsafe(48))' > $@

browser: install system-packages
	$(BIN)/pytest tests/browser

bench: install  ## the benchmark: DiscussIt against a bare relay, then search on a million messages (about 19 minutes)
	$(BIN)/pip install --quiet -e '.[bench]'
	bash .ci/services.sh run $(BIN)/python -m bench  # PostgreSQL + Redis for the two-process figure

lint: install  ## ruff: formatting and lint rules
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .

types: install  ## mypy on discussit/
	$(BIN)/mypy

imports: install  ## import-linter: dependencies point one way (pyproject.toml [tool.importlinter])
	$(BIN)/lint-imports

format: install  ## fix formatting and what ruff can fix
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

settings-table: install  ## print the README's settings table from discussit/settings.py
	$(BIN)/discussit settings-table

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache test-artifacts
