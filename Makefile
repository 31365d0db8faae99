# One command per job; each sets up its own virtualenv on first use.
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
# The browser tests drive Debian's Chromium (never a downloaded one) and need CJK fonts.
CHROMIUM := /usr/bin/chromium
CJK_FONT := /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
BROWSER_PACKAGES := chromium fonts-noto-cjk

.PHONY: example test lint bench clean browser-deps screenshots

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip setuptools
	$(BIN)/python -m pip install -q -e '.[dev]'
	touch $(STAMP)

## Install Debian's chromium and/or fonts-noto-cjk when missing (apt-get; sudo when not root).
## Only what is missing is installed: an installed chromium is never upgraded by `make test`.
browser-deps:
	@pkgs=; [ -x $(CHROMIUM) ] || pkgs=chromium; [ -f $(CJK_FONT) ] || pkgs="$$pkgs fonts-noto-cjk"; pkgs=$$(echo $$pkgs); \
	if [ -z "$$pkgs" ]; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then sudo=; \
	elif command -v sudo >/dev/null 2>&1; then sudo="sudo -n"; \
	else echo "make: the browser tests need Debian's $$pkgs; this user is neither root nor has sudo: run 'apt-get install $$pkgs' as root, then make again" >&2; exit 1; fi; \
	if ! command -v apt-get >/dev/null 2>&1; then \
		echo "make: the browser tests need Chromium at $(CHROMIUM) and Noto CJK fonts, and there is no apt-get to install them: install them, then make again" >&2; exit 1; fi; \
	log=$$(mktemp); \
	echo "Installing $$pkgs for the browser tests (apt-get; log in $$log)"; \
	if $$sudo env DEBIAN_FRONTEND=noninteractive apt-get update >"$$log" 2>&1 \
		&& $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $$pkgs >>"$$log" 2>&1 \
		&& [ -x $(CHROMIUM) ] && [ -f $(CJK_FONT) ]; then rm -f "$$log"; \
	else echo "make: could not install $$pkgs with apt-get (see $$log): install them, then make again" >&2; exit 1; fi

## Build the built-in example docs repository, write its reports in ja_JP, zh_CN and en_US,
## and publish them as a website in example/site (open example/site/index.html, or serve it with
## `.venv/bin/diff-insight site serve example/reports example/site`).
example: $(STAMP)
	$(BIN)/diff-insight example-repo example/repo --force --config-out example/diff-insight.toml
	$(BIN)/diff-insight report example/repo base head --config example/diff-insight.toml \
		--out 'example/reports/{locale}/report-%Y%m%d-{category}.md'
	$(BIN)/diff-insight site build example/reports example/site --config example/diff-insight.toml

## Lint, type-check and run the test suite (the browser tests need browser-deps).
test: $(STAMP) browser-deps
	$(BIN)/ruff check src tests bench scripts fuzz
	$(BIN)/mypy
	$(BIN)/python -m pytest

## PNG screenshots of the sample site (phone and desktop, light and dark) in build/screenshots.
screenshots: $(STAMP) browser-deps
	$(BIN)/python scripts/screenshots.py --out build/screenshots

bench: $(STAMP)
	$(BIN)/python bench/bench_report.py

clean:
	rm -rf example build .pytest_cache .mypy_cache .ruff_cache
