# The README's two commands: `make demo` and `make test`. Both install what they need into a
# project-local virtualenv first (.venv), re-installing only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-ec2 test lint unit e2e bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[operator,plugin,sandbox,test]'
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/dtk-operator sandbox --dir .dtk-sandbox --demo examples/spark-cluster.yaml

lint: install
	$(BIN)/ruff check operator kubectl-plugin tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collected nothing: that is a broken suite, never a pass.
test: lint
	$(BIN)/python -m pytest -q; rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating it as a failure"; exit 1; fi; \
	exit $$rc

bench: install
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .dtk-sandbox .pytest_cache .mypy_cache .ruff_cache

# The chart ships the CRDs as copies of crds/*.yaml: Helm reads only files inside the chart, and
# some packaging tools drop symlinks. tests/chart/test_chart_render.py fails when they differ.
.PHONY: chart-crds
chart-crds:
	rm -f helm/dtk-operator/crds/*.yaml
	cp crds/*.yaml helm/dtk-operator/crds/
