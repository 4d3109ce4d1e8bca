# Every step of the project is a make target. `make run` and `make test` work on a fresh clone.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
VQR := $(BIN)/vqr
# worksteal: an idle worker takes queued tests from a busy one, so the suite no longer waits on one worker's
# tail of slow acceptance tests. Three workers on two cores: about a third of a worker's time is spent waiting
# (sandbox latencies, child processes), which a third worker fills (pytest 4 min 47 s instead of 5 min 16 s here).
PYTEST_ARGS ?= -n 3 --dist worksteal

.PHONY: help install run nightly lint check test pytest fuzz schemas schemas-check sandbox bench bench-quick screenshot clean

help:  ## list the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 16

# Idempotent: the venv is created once, and the project is reinstalled only when pyproject.toml changes.
# The package's bytecode is written every time (0.1 s when current): an editable install imports runner/ from the
# source tree, and where PYTHONDONTWRITEBYTECODE is set (containers, CI images) every `vqr` start would otherwise
# compile its ~300 modules again, 0.15 s of CPU per process.
install: $(STAMP)  ## create .venv and install vqr with its dev extras
	@$(BIN)/python -m compileall -q -j0 runner
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet -e '.[fast]' || \
	  echo "note: libyaml bindings did not build (no C compiler?): YAML loads with the pure-Python parser, slower"
	touch $(STAMP)

run: install  ## start the embedded sandbox, run the nightly batch, write the report
	$(VQR) run --env sandbox --select tag:nightly

# make exits 2 whenever a recipe fails, so vqr's own exit code (README: Exit codes) is kept in reports/.exit-code for
# schedulers that need it (the nightly workflow fails the job by it).
nightly: install  ## the scheduled batch: run tag:nightly against the VQR_ENV environment (default sandbox), write every report
	@status=0; $(VQR) run --select tag:nightly || status=$$?; \
	mkdir -p reports && echo "$$status" > reports/.exit-code; exit $$status

lint: install  ## lint the query repository (what pre-commit and CI run)
	$(VQR) lint

check: install  ## ruff, mypy --strict, and the import-linter contracts (the layers of docs/architecture.md)
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest caches the assertion-rewritten test modules beside them (tests/**/__pycache__, ignored by git) unless
# PYTHONDONTWRITEBYTECODE is set; without the cache every worker rewrites all ~320 of them, ~10 s of CPU each.
pytest: install
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/pytest $(PYTEST_ARGS)

fuzz: install  ## property tests with fresh random examples on every run (make test replays fixed ones)
	VQR_HYPOTHESIS_PROFILE=fuzz $(BIN)/pytest -n 2 -p no:cacheprovider tests/unit/load/test_properties.py \
		tests/unit/importer/test_properties.py tests/unit/importer/test_emit.py tests/unit/sandbox/test_lint_agreement.py \
		tests/unit/report/test_csv_columns.py

schemas: install  ## regenerate schemas/ from the OpenAPI subset and our format sources
	$(VQR) schema build

schemas-check: install
	$(VQR) schema build --check

test: install check pytest lint schemas-check  ## everything CI runs

sandbox: install  ## serve the embedded Veza-compatible sandbox on 127.0.0.1:8700
	$(VQR) sandbox serve --port 8700

bench: install  ## every speed and memory target beside its peer (table + bench/results.json)
	$(BIN)/python -m bench

bench-quick: install  ## the benchmarks at tiny sizes: they run (targets not judged)
	$(BIN)/python -m bench --quick --output reports/bench-quick.json

# The same run.json (tests/golden/example-run), Chromium and fonts give the same pixels.
screenshot: install  ## regenerate docs/report.png, the README's screenshot, from the example run in headless Chromium
	$(BIN)/python -m tests.support.screenshot docs/report.png

clean:  ## remove the venv, caches, reports, the journal and the embedded sandbox's store (.vqr/)
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache .hypothesis build *.egg-info reports .vqr
