# The project's commands. Every target sets up what it needs itself: a virtual environment in
# .venv with the pinned dependencies of requirements/*.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
SITE_STAMP := $(VENV)/.site-installed
DEV_STAMP := $(VENV)/.dev-installed
LAB_STAMP := $(VENV)/.lab-installed
# Tools built from Go modules live outside the clone, keyed by version, so a fresh clone on a
# warm machine builds nothing.
TOOLS_DIR ?= $(or $(TELL_IT_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tell-it-with-a-meme)/tools
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS_DIR)/actionlint-$(ACTIONLINT_VERSION)/actionlint
export ACTIONLINT
# Material prints its end-of-life notice on every build; README.md says where the site can go.
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test test-kind lint bench clean tools help provision base-image doctor demo-down

help:
	@echo "make site   build the static site into site/"
	@echo "make serve  preview the site with live reload on http://127.0.0.1:8000"
	@echo "make test   run the tests"
	@echo "make bench  run the benchmarks"
	@echo "make clean  remove the build, caches and the virtual environment"
	@echo "make provision  Docker engine and the lab's Kubernetes tools (built from Go modules)"
	@echo "make doctor     is this machine ready for the lab? (says how to fix what is not)"
	@echo "make demo-down  remove everything the lab created, then check nothing is left"

$(SITE_STAMP): requirements/site.lock pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed; set PYTHON=python3.11")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/site.lock
	$(BIN)/pip install --quiet --disable-pip-version-check --no-deps -e .
	@touch $@

$(LAB_STAMP): $(SITE_STAMP) requirements/lab.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/lab.lock
	@touch $@

$(DEV_STAMP): $(LAB_STAMP) requirements/dev.lock
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements/dev.lock
	@touch $@

site: $(SITE_STAMP)
	$(BIN)/mkdocs build --strict

serve: $(SITE_STAMP)
	$(BIN)/mkdocs serve --strict --livereload --dev-addr 127.0.0.1:8000

tools: $(ACTIONLINT)

$(ACTIONLINT):
	@command -v go >/dev/null || { echo "Go is needed to build actionlint (apt-get install golang or see go.dev)"; exit 1; }
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Tests of kind itself need its node image (and download kind): `make test-kind` runs them.
test: $(DEV_STAMP)
	@command -v go >/dev/null && $(MAKE) --no-print-directory tools || echo "note: no Go here, the workflow lint test will say so"
	$(BIN)/ruff check .
	$(BIN)/pytest -m "not kind"

test-kind: $(DEV_STAMP)
	$(BIN)/pytest -m kind

# The lab's ground: Debian packages and a running Docker engine, then the Kubernetes tools.
provision: $(LAB_STAMP)
	sh demo/host.sh
	$(BIN)/python -m demo.provision

base-image: $(LAB_STAMP)
	$(BIN)/python -m demo.images base

doctor: $(LAB_STAMP)
	@$(BIN)/python -m demo.doctor $(PROVIDER)

demo-down: $(LAB_STAMP)
	$(BIN)/python -m demo.teardown

bench: $(LAB_STAMP)
	$(BIN)/python -m benchmarks.site
	$(BIN)/python -m benchmarks.lab

clean:
	rm -rf site .cache .artifacts $(VENV) *.egg-info
