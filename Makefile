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

install: $(STAMP)

book: $(STAMP)
	$(VENV)/bin/labnoise book --profile $(PROFILE)

test: $(STAMP)
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
