# DiscussIt: one line per target. `make run` serves the app; `make test` runs every test.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000

.PHONY: run test install system-packages bench lint format browser clean

run: install .secret_key  ## set up and serve http://127.0.0.1:8000 (SQLite file + in-process broker)
	SECRET_KEY="$$(cat .secret_key)" $(BIN)/uvicorn discussit.app:create_app --factory --host 127.0.0.1 --port $(PORT) --ws websockets-sansio --ws-max-size 65536 --ws-per-message-deflate false --timeout-graceful-shutdown 20

test: install system-packages  ## set up and run every test twice: embedded default, then PostgreSQL + Redis
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not services"
	bash .ci/services.sh run $(BIN)/pytest

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

bench: install  ## the fan-out benchmark: DiscussIt against a bare relay (about 10 minutes)
	$(BIN)/pip install --quiet -e '.[bench]'
	bash .ci/services.sh run $(BIN)/python -m bench  # PostgreSQL + Redis for the two-process figure

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check discussit

format: install
	$(BIN)/ruff format discussit && $(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache test-artifacts
