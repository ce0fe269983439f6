# The one entry point. Every target installs what it needs into .venv first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PKG_SOURCES := pyproject.toml

.PHONY: test lint typecheck unit docs bench demo mutate clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python $(PKG_SOURCES)
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(BIN)/python $(PKG_SOURCES)
	$(BIN)/python -m pip install --quiet -e '.[test,dev]'
	touch $@

$(VENV)/.installed-docs: $(BIN)/python $(PKG_SOURCES)
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	touch $@

$(VENV)/.installed-bench: $(BIN)/python $(PKG_SOURCES)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	touch $@

## make test: ruff, mypy --strict and pytest with branch coverage (fails under 95%);
## slow property runs only in CI or with SLOW=1
test: lint typecheck unit

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check src tests benchmarks

typecheck: $(VENV)/.installed-dev
	$(BIN)/mypy --strict src benchmarks

# Long property runs (marked slow) run in CI, or locally with `make test SLOW=1`; so does
# every example of every property (the ci Hypothesis profile; a local run tries a fifth).
PYTEST_MARKS := $(if $(or $(CI),$(SLOW)),,-m "not slow")
PYTEST_PROFILE := $(if $(SLOW),HYPOTHESIS_PROFILE=ci)
# pytest runs on every core (pytest-xdist); `make test WORKERS=0` runs it in one process.
# Coverage is measured in each worker (patch = ["subprocess"] in pyproject.toml), then combined.
WORKERS ?= auto

unit: $(VENV)/.installed-dev
	$(BIN)/coverage erase
	$(PYTEST_PROFILE) $(BIN)/coverage run -m pytest -q -n $(WORKERS) --dist loadgroup $(PYTEST_MARKS)
	$(BIN)/coverage combine --quiet
	$(BIN)/coverage report --fail-under=95

## make docs: the Sphinx site, warnings as errors
docs: $(VENV)/.installed-docs
	$(BIN)/sphinx-build -W --keep-going -q -b html docs docs/_build/html

## make demo: simulate two months end to end, close each with carry-over, check the planted truth
DEMO_ARGS ?=
demo: $(VENV)/.installed
	$(BIN)/python -m refundcore demo $(DEMO_ARGS)

## make bench: the benchmarks under benchmarks/
bench: $(VENV)/.installed-bench
	$(BIN)/python -m benchmarks

## make mutate: mutation testing (mutmut) of money, policy/quote and reconcile/_rules;
## fails when a module's score is under 90% (see benchmarks/mutation_score.py). Slow.
mutate: $(VENV)/.installed-dev
	HYPOTHESIS_PROFILE=mutate $(BIN)/mutmut run
	$(BIN)/mutmut results --all true > mutants/results.txt
	$(BIN)/python -m benchmarks.mutation_score mutants/results.txt

clean:
	rm -rf $(VENV) mutants docs/_build .coverage htmlcov .mypy_cache .ruff_cache .hypothesis
