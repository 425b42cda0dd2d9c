# make run        installs into .venv, indexes samples/ when the store is empty, serves the web page
# make test       installs dev dependencies and the browser, runs lint, types and the whole test
#                 suite in a random order (pytest-randomly); `make test SEED=N` repeats an order
# make test-fast  the inner loop: lint, types and the tests not marked slow (under 2 minutes)
# make reader     trains the reader model again from ../shared/data (see training/reader.py)
# All are idempotent: a second run reuses .venv and starts working within seconds.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STORE  ?= .assistant
SEED   := $(shell od -An -N2 -tu2 /dev/urandom | tr -d ' ')
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False
export GRADIO_ANALYTICS_ENABLED := False
export PIP_DISABLE_PIP_VERSION_CHECK := 1

.PHONY: run test test-fast lint reader install install-dev browser screenshot clean

run: $(VENV)/.installed
	@if ! $(BIN)/assistant status --store $(STORE) >/dev/null 2>&1 || \
	    [ "$$($(BIN)/assistant status --store $(STORE) --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["articles"])')" = "0" ]; then \
	    echo "Indexing the sample articles into $(STORE)/ ..."; \
	    $(BIN)/assistant index samples --store $(STORE); \
	fi
	$(BIN)/python app.py --store $(STORE) --articles samples

test: $(VENV)/.installed-dev browser lint
	@echo "Tests in random order, seed $(SEED): repeat it with make test SEED=$(SEED)"
	$(BIN)/python -m pytest -q -ra -p randomly --randomly-seed=$(SEED)

test-fast: $(VENV)/.installed-dev lint
	@echo "Tests in random order, seed $(SEED): repeat it with make test-fast SEED=$(SEED)"
	$(BIN)/python -m pytest -q -ra -p randomly --randomly-seed=$(SEED) -m "not slow"

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# The pinned CPU build of torch first: a plain requirement would pull a multi-GB CUDA build.
$(VENV)/.torch: $(VENV)/bin/python
	$(BIN)/pip install -q torch==2.13.0
	touch $@

$(VENV)/.installed: pyproject.toml constraints.txt $(VENV)/.torch
	$(BIN)/pip install -q -c constraints.txt -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,train,cluster]'
	touch $@

$(VENV)/.installed-train: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[train]'
	touch $@

# The reader model shipped in assistant/models/reader/, trained again from ../shared/data and the
# bundled embedding model (seeded; about 30 minutes on 2 cores); its manifest says what it reached.
# DEV_STORE=STORE (a whole-corpus index) also records the dev figures it reaches.
reader: $(VENV)/.installed-train
	$(BIN)/python training/reader.py $(if $(DEV_STORE),--dev-store $(DEV_STORE))

# Debian's Chromium for the browser tests (Playwright drives it through executable_path).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	    echo "Installing Debian's chromium for the browser tests ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	    || { echo "error: could not install chromium (needed by the browser tests)"; exit 1; }; }

# Refresh the README's pictures: the browser tests answer the Madrid question at desktop and phone
# size and save the page.
screenshot: $(VENV)/.installed-dev browser
	NEWS_ASSISTANT_SCREENSHOT=docs/screenshot.png NEWS_ASSISTANT_SCREENSHOT_PHONE=docs/screenshot-phone.png \
	    $(BIN)/python -m pytest -q tests/test_browser.py -k "highlighted or phone_layout"

clean:
	rm -rf $(VENV) $(STORE) .pytest_cache .mypy_cache .ruff_cache
