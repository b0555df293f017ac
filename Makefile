# Leadbase: `make run` (serve with demo data on every core; WORKERS=N to choose) and `make test` (the whole suite).
# Both start from a machine with only Python >= 3.11: they create .venv and install.

# The first interpreter that runs and is >= 3.11 (pyenv shims may exist and not run).
PYTHON ?= $(shell for p in python3 python3.13 python3.12 python3.11 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1 && { echo $$p; break; }; \
	done)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000
WORKERS ?=

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@test -n "$(PYTHON)" || { echo "Leadbase needs Python >= 3.11 (set PYTHON=/path/to/python3.11)"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/leadbase migrate
	$(BIN)/leadbase demo
	$(BIN)/leadbase serve --host $(HOST) --port $(PORT) $(if $(WORKERS),--workers $(WORKERS),)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check leadbase tests bench migrations
	$(BIN)/mypy leadbase

bench: install
	$(BIN)/python bench/leads_api.py

clean:
	rm -rf $(VENV) .leadbase-test build *.egg-info
