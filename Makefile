# Two entry points: `make demo` (the main job on embedded defaults) and `make test` (the suite).
# Both create .venv from pyproject.toml on first use.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
STAMP := $(VENV)/.installed

.PHONY: demo test typecheck package-check bench fake-api clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install --quiet --upgrade pip
	$(VENV)/bin/python -m pip install --quiet -e ".[test,postgres]"
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/python -m airflow_provider_analytics.demo

# Test files run side by side, one file per worker (its module fixtures stay shared), on as many
# workers as cores, at most 4; PYTEST_WORKERS=0 runs them one after another. Files go out in
# collection order, the few long end-to-end ones first, so that no worker waits idle at the end
# while another runs one of them (xdist's default sends the files with the most tests first).
PYTEST_WORKERS ?= auto
test: $(STAMP)
	$(VENV)/bin/python -m pytest -n $(PYTEST_WORKERS) --maxprocesses 4 --dist loadfile --no-loadscope-reorder

typecheck: $(STAMP)
	$(VENV)/bin/python -m mypy

# The built wheel and sdist: metadata, files, and a sync from a fresh venv with the wheel installed.
package-check: $(STAMP)
	PYTHON=$(PYTHON) bash .ci/package-check

bench: $(STAMP)
	$(VENV)/bin/python bench/sync_throughput.py

fake-api: $(STAMP)
	$(VENV)/bin/python -m airflow_provider_analytics.testing.fake_api --port 8081

clean:
	rm -rf $(VENV) .airflow .airflow-local .pytest_cache .mypy_cache
