# The README's two commands: `make demo` and `make test`. Both install what they need into a
# project-local virtualenv first (.venv), re-installing only when pyproject.toml changes.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo demo-ec2 test lint unit e2e bench clean reference plugin-archive

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[operator,plugin,sandbox,test]'
	touch $(STAMP)

install: $(STAMP)

# Byte-code for the source roots, as pip writes it for every installed package: with the editable
# install and PYTHONDONTWRITEBYTECODE set (as on these machines), every `kubectl-dtk` and operator
# process would otherwise compile every module it imports, each time it starts. Python checks each
# file's time, so code edited later is compiled afresh, never run stale.
.PHONY: bytecode
bytecode: $(STAMP)
	$(BIN)/python -m compileall -q operator kubectl-plugin > /dev/null

demo: install bytecode
	$(BIN)/dtk-operator sandbox --dir .dtk-sandbox --demo examples/spark-cluster.yaml

lint: install
	$(BIN)/ruff check operator kubectl-plugin tests bench
	$(BIN)/mypy
	$(BIN)/lint-imports

# pytest exits 5 when it collected nothing: that is a broken suite, never a pass. The tests run on
# TEST_WORKERS pytest-xdist workers (each with its own API emulator; every test has its own
# namespace and folders): most of their time is spent waiting on operators and steps.
TEST_WORKERS ?= 2
test: lint bytecode
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: treating it as a failure"; exit 1; fi; \
	exit $$rc

# docs/reference.md's custom-resource tables, from crds/*.yaml (tests/crds/test_reference_in_sync.py
# fails until this is run after a CRD change). The generator is linted here: tools/ is outside `make lint`.
reference: install
	$(BIN)/ruff check tools
	$(BIN)/mypy --strict tools/gen_reference.py
	$(BIN)/python tools/gen_reference.py

# The release archive krew installs the plugin from (dist/kubectl-dtk-vVERSION.tar.gz, reproducible),
# and plugins/dtk.yaml, krew's manifest for it (tests/plugin/test_krew_manifest.py checks it as krew does).
plugin-archive: install
	$(BIN)/ruff check tools
	$(BIN)/mypy --strict tools/plugin_archive.py
	$(BIN)/python tools/plugin_archive.py --manifest plugins/dtk.yaml

bench: install bytecode
	$(BIN)/python bench/run_all.py

clean:
	rm -rf .dtk-sandbox .pytest_cache .mypy_cache .ruff_cache

# The chart ships the CRDs as copies of crds/*.yaml: Helm reads only files inside the chart, and
# some packaging tools drop symlinks. tests/chart/test_chart_render.py fails when they differ.
.PHONY: chart-crds
chart-crds:
	rm -f helm/dtk-operator/crds/*.yaml
	cp crds/*.yaml helm/dtk-operator/crds/

# The container image (SPEC section 9): built offline from the repo with Debian's mmdebstrap and
# buildah, written to dist/ as an OCI archive (image/build.sh); image-test runs the operator from
# that archive against the sandbox's API (image/test-image.sh). Both install the Debian packages
# they need. Neither is part of `make test`: they take minutes and need root.
IMAGE_VERSION := $(shell sed -n 's/^version = "\(.*\)"$$/\1/p' pyproject.toml)
IMAGE_ARCHIVE := dist/dtk-operator-$(IMAGE_VERSION).oci.tar
IMAGE_INPUTS := Containerfile image/build.sh image/common.sh pyproject.toml README.md \
	$(shell find operator kubectl-plugin -name '*.py' -o -name py.typed)

.PHONY: image image-test

image: $(STAMP)
	timeout 1800 image/build.sh

$(IMAGE_ARCHIVE): $(IMAGE_INPUTS) | $(STAMP)
	timeout 1800 image/build.sh

image-test: $(IMAGE_ARCHIVE) $(STAMP)
	timeout 900 image/test-image.sh $(IMAGE_ARCHIVE)
