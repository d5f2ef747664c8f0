# Two entry points for a fresh machine with Python 3.11+ and make:
#   make demo   create .venv, install, run `staffing demo` on the embedded demo site
#   make test   the same set-up, then the test suite
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
OUT ?= demo

.PHONY: demo test setup bench clean

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

demo: setup
	$(BIN)/staffing demo --out $(OUT)

test: setup
	@sh scripts/ensure_chromium.sh || echo "make test: no headless Chromium, browser tests SKIPPED (see the line above)"
	$(BIN)/python -m pytest -rs  # -rs: the reason of every skipped test (e.g. no browser) in the summary

bench: setup
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

clean:
	rm -rf $(VENV) $(OUT) .pytest_cache
