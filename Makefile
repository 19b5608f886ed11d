# The two commands of a fresh machine:
#   make run    sets up .venv (when missing) and trains and tests inception_mnist
#   make test   sets up .venv (when missing), lints, type-checks and runs every test
# Both install the versions CI tests (constraints.txt). `make test-lowest` runs the default
# tests on the lowest versions pyproject.toml allows, in .venv-lowest; `.ci/run` runs both.
# `make docs` builds the documentation site in strict mode into site/ (`make docs-pages`
# regenerates its generated pages and pictures); `make browser` installs the chromium its test drives.

PYTHON ?= python3
VENV ?= .venv
LOWEST ?= .venv-lowest
# torch and torchvision: the releases this machine keeps a local copy of (pip takes them from it).
TORCH ?= torch==2.14.1 torchvision==0.29.1
EXTRAS ?= dev,export,docs,serve
SHELL := /bin/bash

.PHONY: run test test-lowest constraints docs docs-pages browser

$(VENV)/installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip
	$(VENV)/bin/python -m pip install -q -c constraints.txt $(TORCH) -e ".[$(EXTRAS)]"
	touch $@

run: $(VENV)/installed
	$(VENV)/bin/zoo fit --model inception_mnist

# ONNX Runtime Web for the docs site's "try it" panels, at the version package-lock.json pins.
node_modules/installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

test: $(VENV)/installed node_modules/installed
	@$(VENV)/bin/python -m pip freeze --exclude-editable | diff <(grep -v '^#' constraints.txt) - \
		|| { echo "make test: .venv differs from constraints.txt (above); run make constraints"; exit 1; }
	$(VENV)/bin/ruff check zoo tests benchmarks examples tools
	$(VENV)/bin/mypy zoo benchmarks
	$(VENV)/bin/python -m pytest
	$(VENV)/bin/python -m pytest -m slow

$(LOWEST)/installed: pyproject.toml $(VENV)/installed
	$(PYTHON) -m venv $(LOWEST)
	$(VENV)/bin/python -m tools.lowest_versions > $(LOWEST)/lowest.txt
	$(LOWEST)/bin/python -m pip install -q --upgrade pip
	$(LOWEST)/bin/python -m pip install -q -c $(LOWEST)/lowest.txt $(TORCH) -e ".[$(EXTRAS)]"
	$(LOWEST)/bin/python -m pip freeze --exclude-editable > $(LOWEST)/installed.txt
	touch $@

test-lowest: $(LOWEST)/installed
	@echo "lowest versions: $$(grep -iEf <(sed 's/^\(.*\)==.*/^\1==/' $(LOWEST)/lowest.txt) $(LOWEST)/installed.txt | paste -sd' ')"
	$(LOWEST)/bin/python -m pytest

constraints: $(VENV)/installed
	{ sed -n '1,3p' constraints.txt; $(VENV)/bin/python -m pip freeze --exclude-editable; } > constraints.txt.tmp
	mv constraints.txt.tmp constraints.txt

docs: $(VENV)/installed node_modules/installed
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict

docs-pages: $(VENV)/installed
	$(VENV)/bin/python -m tools.docs

# Debian's chromium and a CJK font (the tutorials' titles), for tests/test_docs.py; Playwright's own
# browser download is not used. Retries while another apt holds the lock.
browser:
	@command -v chromium >/dev/null && fc-list :lang=zh | grep -q . || for try in 1 2 3 4 5 6; do \
		{ apt-get update -q && apt-get install -y -q chromium fonts-wqy-zenhei; } && break; sleep 10; done
	@command -v chromium >/dev/null || { echo "make browser: chromium did not install"; exit 1; }
