# One command per job; each sets up its own virtualenv on first use.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: example test lint bench clean

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## Build the built-in example docs repository and write its reports in ja_JP, zh_CN and en_US.
example: $(STAMP)
	$(BIN)/diff-insight example-repo example/repo --force --config-out example/diff-insight.toml
	$(BIN)/diff-insight report example/repo base head --config example/diff-insight.toml \
		--out 'example/reports/{locale}/report-%Y%m%d-{category}.md'

## Lint, type-check and run the test suite.
test: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/mypy
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf example build .pytest_cache .mypy_cache .ruff_cache
