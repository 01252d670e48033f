# vidlab -- the two commands a new user needs are `make run` and `make test`.
# Each creates .venv on first use and installs the pinned stack (constraints.txt).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
NOTEBOOKS := $(sort $(wildcard notebooks/[0-9]*.ipynb))

.PHONY: run test test-slow lint unit notebooks rehearsal browser outputs lab bench slides clean help

help:
	@echo "make run      execute every notebook (quick profile) and render the course to build/"
	@echo "make test     everything CI checks: ruff, unit tests, notebooks against stored outputs,"
	@echo "              the full profile rehearsed from a local mirror (make rehearsal),"
	@echo "              widgets, rendered course and slides in a real browser (needs chromium)"
	@echo "make browser  only the browser tests (JupyterLab and headless Chromium)"
	@echo "make test-slow  retrain the quick backbone and check it reaches its documented accuracy"
	@echo "make outputs  re-execute the notebooks in place to refresh their stored outputs"
	@echo "make lab      open Jupyter Lab"
	@echo "make bench    run the benchmarks in benchmarks/"
	@echo "make slides   export every notebook to reveal.js slides in build/slides/ (open offline)"

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[cpu,dev]"
	@touch $@

run: $(STAMP)
	VIDLAB_PROFILE=quick $(BIN)/python -m vidlab.tools.course build

test: lint unit notebooks rehearsal browser

lint: $(STAMP)
	$(BIN)/ruff check .

unit: $(STAMP)
	$(BIN)/python -m pytest -m "not slow and not rehearsal and not browser" tests

# Every notebook's full-profile branches, from a generated stand-in of every external file
# served on 127.0.0.1 (VIDLAB_PROFILE=full VIDLAB_SCALE=smoke VIDLAB_MIRROR=...): about 6
# minutes on 2 idle cores. Times per notebook go to build/rehearsal-times.txt.
rehearsal: $(STAMP)
	$(BIN)/python -m pytest -m rehearsal -p no:cacheprovider tests/test_rehearsal.py
	@cat build/rehearsal-times.txt

# Retrains the quick backbone from its documented recipe (about 5 minutes on 2 cores).
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow tests

# Stored outputs are made, and checked, from an empty cache: every cache a notebook uses is
# rebuilt exactly as on a new user's machine, so the two runs print the same things.
FRESH_CACHE := $(CURDIR)/build/fresh-cache
# Numbers that training produces are compared within the tolerances of nbval_tolerance.cfg,
# everything else exactly (after nbval_sanitize.cfg masks timings).
NBVAL := $(BIN)/python -m pytest --nbval --nbval-current-env \
	--nbval-sanitize-with nbval_sanitize.cfg --nbval-tolerance-with nbval_tolerance.cfg

# The check runs twice: as a user runs the notebooks, then on another numeric path of the same
# machine (TensorFlow's oneDNN kernels off), whose trained numbers differ as another CPU's do.
notebooks: $(STAMP)
ifeq ($(NOTEBOOKS),)
	@echo "no notebooks in notebooks/ yet: nothing for nbval to check"
else
	rm -rf $(FRESH_CACHE)
	VIDLAB_PROFILE=quick VIDLAB_CACHE=$(FRESH_CACHE) $(NBVAL) $(NOTEBOOKS)
	rm -rf $(FRESH_CACHE)
	TF_ENABLE_ONEDNN_OPTS=0 VIDLAB_PROFILE=quick VIDLAB_CACHE=$(FRESH_CACHE) $(NBVAL) $(NOTEBOOKS)
endif

# The widgets in JupyterLab, the rendered course and the slides, in Debian's headless Chromium
# (`apt-get install -y chromium`; .ci/run installs it). The notebooks run again in JupyterLab,
# on the cache the nbval run above filled (notebook 01's features, the flows ...).
browser: $(STAMP)
	VIDLAB_CACHE=$(FRESH_CACHE) $(BIN)/python -m pytest -m browser tests

outputs: $(STAMP)
	rm -rf $(FRESH_CACHE)
	VIDLAB_PROFILE=quick VIDLAB_CACHE=$(FRESH_CACHE) $(BIN)/python -m vidlab.tools.course outputs

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks

bench: $(STAMP)
	@for b in benchmarks/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

# Instructor slides from the notebooks' stored outputs (nothing is executed); reveal.js and
# MathJax are copied next to them, so build/slides/ opens without a network.
slides: $(STAMP)
	$(BIN)/python -m vidlab.tools.slides --out build/slides

clean:
	rm -rf build
