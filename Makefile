# Leadbase: `make run` (serve with demo data) and `make test` (the whole suite).
# Both start from a machine with only Python >= 3.11: they create .venv and install.

PYTHON ?= $(shell command -v python3.13 || command -v python3.12 || command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
HOST   ?= 127.0.0.1
PORT   ?= 8000

.PHONY: install run test lint bench clean

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Leadbase needs Python >= 3.11 (set PYTHON=/path/to/python3.11)")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/leadbase migrate
	$(BIN)/leadbase demo
	$(BIN)/leadbase serve --host $(HOST) --port $(PORT)

test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check leadbase tests bench migrations
	$(BIN)/mypy leadbase

bench: install
	$(BIN)/python bench/leads_api.py

clean:
	rm -rf $(VENV) .leadbase-test build *.egg-info
