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

# llama-cpp-python (the `llm` and `dev` extras) is compiled here from its source release. Built as
# pip would build it, llama.cpp tunes itself to the build machine (-march=native): on a processor
# with AMX it repacks the model's weights for AMX and crashes in decode. It is built instead with
# fixed, portable flags: AVX2, FMA and F16C when this processor has AVX2 (every x86-64 machine of
# the last decade), plain SSE otherwise; never AVX-512 or AMX. The wheel is kept in a cache of
# its own, named by version and flags, so pip's cache never hands back a natively tuned build.
LLAMA_VERSION := $(shell sed -n 's/^llama-cpp-python==//p' constraints.txt)
CPU_FLAGS     := $(strip $(shell grep -o -w 'avx2\|fma\|f16c\|avx512f\|avx512_vnni\|amx_tile\|amx_int8' /proc/cpuinfo 2>/dev/null | sort -u | tr '\n' ' '))
LLAMA_OFF     := -DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF \
                 -DGGML_AVX512_BF16=OFF -DGGML_AVX_VNNI=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF \
                 -DGGML_AMX_BF16=OFF
ifneq (,$(filter avx2,$(CPU_FLAGS)))
LLAMA_LEVEL   := avx2
LLAMA_CMAKE   := $(LLAMA_OFF) -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON
else
LLAMA_LEVEL   := sse
LLAMA_CMAKE   := $(LLAMA_OFF) -DGGML_AVX=OFF -DGGML_AVX2=OFF -DGGML_FMA=OFF -DGGML_F16C=OFF -DGGML_BMI2=OFF
endif
LLAMA_KEY     := $(shell echo '$(LLAMA_CMAKE)' | md5sum | cut -c1-8)
WHEELS        := $(or $(XDG_CACHE_HOME),$(HOME)/.cache)/news-assistant/wheels/llama-cpp-python-$(LLAMA_VERSION)-$(LLAMA_LEVEL)-$(LLAMA_KEY)

.PHONY: run test test-fast lint reader retriever install install-dev install-llm browser screenshot clean cpu

run: $(VENV)/.installed
	@if ! $(BIN)/assistant status --store $(STORE) >/dev/null 2>&1 || \
	    [ "$$($(BIN)/assistant status --store $(STORE) --json | $(BIN)/python -c 'import json,sys; print(json.load(sys.stdin)["articles"])')" = "0" ]; then \
	    echo "Indexing the sample articles into $(STORE)/ ..."; \
	    $(BIN)/assistant index samples --store $(STORE); \
	fi
	$(BIN)/python app.py --store $(STORE) --articles samples

test: cpu $(VENV)/.installed-dev browser lint
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
install-llm: $(VENV)/.installed-llm

# What a failure may depend on: the processor's instruction sets that matter to native code.
cpu:
	@echo "Processor: $$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo 2>/dev/null | head -1);" \
	    "flags: $(or $(CPU_FLAGS),none of avx2 avx512f amx); llama.cpp built for: $(LLAMA_LEVEL)"

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

$(VENV)/.installed-dev: pyproject.toml constraints.txt $(VENV)/.installed-llm
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,train,cluster]'
	touch $@

# The portable llama-cpp-python wheel (see LLAMA_CMAKE above), built once per machine and flags
# (about 5 minutes on 2 cores), then installed with the `llm` extra.
$(VENV)/.installed-llm: constraints.txt $(VENV)/.installed
	@if ! ls $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl >/dev/null 2>&1; then \
	    echo "Building llama-cpp-python $(LLAMA_VERSION) for $(LLAMA_LEVEL), no native tuning ..."; \
	    rm -rf $(WHEELS).tmp && mkdir -p $(WHEELS).tmp && \
	    CMAKE_ARGS="$(LLAMA_CMAKE)" CMAKE_BUILD_PARALLEL_LEVEL=$$(nproc) \
	        $(BIN)/pip wheel -q --no-cache-dir --no-deps --no-binary llama-cpp-python \
	        -w $(WHEELS).tmp llama-cpp-python==$(LLAMA_VERSION) && \
	    rm -rf $(WHEELS) && mv $(WHEELS).tmp $(WHEELS); \
	fi
	$(BIN)/pip install -q --no-cache-dir -c constraints.txt --no-deps --force-reinstall \
	    $(WHEELS)/llama_cpp_python-$(LLAMA_VERSION)-*.whl
	$(BIN)/pip install -q -c constraints.txt -e '.[llm]'
	touch $@

$(VENV)/.installed-train: pyproject.toml constraints.txt $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[train]'
	touch $@

# The reader model shipped in assistant/models/reader/, trained again from ../shared/data and the
# bundled embedding model (seeded; about 30 minutes on 2 cores); its manifest says what it reached.
# DEV_STORE=STORE (a whole-corpus index) also records the dev figures it reaches.
reader: $(VENV)/.installed-train
	$(BIN)/python training/reader.py $(if $(DEV_STORE),--dev-store $(DEV_STORE))

# The retrieval model shipped in index/embed/models/news-minilm-l6/: the bundled embedding model
# fine-tuned on ../shared/data (seeded; about 40 minutes on 2 cores), int8 for any x86-64; its
# manifest says what it reached on the held-out weeks. Stores built with it then need --rebuild.
retriever: $(VENV)/.installed-train
	$(BIN)/python training/retriever.py --ship

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
