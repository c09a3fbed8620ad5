# Two entry points: `make serve` (install + run the gateway on embedded defaults)
# and `make test` (install + run the whole test suite). Both create ./.venv on first use.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: serve test lint bench

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

# LiteLLM for the client tests (tests/clients/), never a gateway dependency: the newest release in
# .venv, and .venv-litellm-<version> per tested release (see the script). Idempotent and quick.
$(VENV)/.installed-litellm: $(VENV)/.installed-test scripts/install-litellm.sh scripts/litellm-overrides.txt
	PY=$(PY) bash scripts/install-litellm.sh $(VENV)
	touch $@

# Debian's chromium for the web console's browser tests (Playwright drives it; no browser download).
$(VENV)/.installed-browser:
	command -v chromium >/dev/null || (apt-get update -q && apt-get install -y -q chromium chromium-driver)
	touch $@

serve: $(VENV)/.installed
	$(BIN)/mediarouter serve $(ARGS)

test: $(VENV)/.installed-test $(VENV)/.installed-litellm $(VENV)/.installed-browser
	$(BIN)/pytest $(ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check src tests && $(BIN)/ruff format --check src tests

bench: $(VENV)/.installed
	bash bench/run.sh $(ARGS)
