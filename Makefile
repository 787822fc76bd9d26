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
TOOLS_DIR ?= $(or $(TELLIT_CACHE),$(or $(XDG_CACHE_HOME),$(HOME)/.cache)/tell-it-with-a-meme)/tools
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(TOOLS_DIR)/actionlint-$(ACTIONLINT_VERSION)/actionlint
export ACTIONLINT
# Material prints its end-of-life notice on every build; README.md says where the site can go.
export NO_MKDOCS_2_WARNING := 1

.PHONY: site serve test test-fast test-kind lint bench clean tools help provision node-image doctor demo demo-up demo-status demo-down experiments record prefetch offline

help:
	@echo "make site   build the static site into site/ (BUILDER=zensical: with Zensical)"
	@echo "make serve  preview the site with live reload on http://127.0.0.1:8000"
	@echo "make test   set up what the tests need (lab, Chromium), then run them all"
	@echo "make test-fast  the tests that need nothing set up (seconds)"
	@echo "make bench  run the benchmarks"
	@echo "make clean  remove the build, caches and the virtual environment"
	@echo "make provision  Docker engine and the lab's Kubernetes tools (built from Go modules)"
	@echo "make node-image  the kind node image, built here (for machines that cannot pull)"
	@echo "make doctor     is this machine ready for the lab? (says how to fix what is not)"
	@echo "make demo       the lab's whole story: push v1, pull v2, a change by hand (PROVIDER=kind|kwok|kubeconfig, CLUSTERS=3, AGENT=ours|flux)"
	@echo "make experiments  measure part 4's claims into docs/lab/results (SMALL=1: about 3 minutes; EXPERIMENT_PROVIDER=kind: lead time on kind)"
	@echo "make record     record make demo PROVIDER=kwok for the lab page's player"
	@echo "make prefetch   the workshop's offline bundle (BUNDLE=tellit-offline.tar): tools, images, wheels, site"
	@echo "make offline BUNDLE=...  an attendee's laptop ready for make demo from the bundle, no network"
	@echo "make demo-up    bring up the lab only"
	@echo "make demo-status  each cluster, the registry and the git server"
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

# BUILDER=zensical builds with Zensical, Material's successor (README: what it does not show).
BUILDER ?= mkdocs
site: $(SITE_STAMP)
ifeq ($(BUILDER),mkdocs)
	$(BIN)/mkdocs build --strict
else ifeq ($(BUILDER),zensical)
	$(BIN)/python -m generator.site.zensical -f mkdocs.yml
else
	$(error BUILDER=$(BUILDER) is not a builder of this site: use mkdocs (the default) or zensical)
endif

serve: $(SITE_STAMP)
	$(BIN)/mkdocs serve --strict --livereload --dev-addr 127.0.0.1:8000

tools: $(ACTIONLINT)

$(ACTIONLINT):
	@command -v go >/dev/null || { echo "Go is needed to build actionlint (apt-get install golang or see go.dev)"; exit 1; }
	GOBIN=$(dir $@) go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)

lint: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# `make test` sets up everything the tests use (Debian packages, dockerd, Chromium, the lab's
# tools, kind's node image where it cannot be pulled, actionlint) and then runs them all:
# nothing is skipped on a machine it could set up. `make test-kind` runs the kind tests alone.
AXE_STAMP := node_modules/.installed

# axe-core for the browser's accessibility check, pinned by package-lock.json.
$(AXE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	@touch $@

test: $(DEV_STAMP)
	sh demo/host.sh --browser
	$(MAKE) --no-print-directory $(AXE_STAMP)
	$(BIN)/python -m demo provision
	$(BIN)/python -m demo node-image --if-needed
	$(BIN)/python -m demo.offline.pack --fetch-only --platforms this
	$(MAKE) --no-print-directory tools
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest $(PARALLEL) $(DURATIONS) -m "not alone"; parallel=$$?; $(BIN)/pytest -m alone && exit $$parallel

# The suite on TEST_WORKERS workers (pytest-xdist; TEST_WORKERS=0: one process), then the tests
# that must run alone (marked `alone`: they remove the lab's shared images). Most of a lab test
# is waiting on clusters, so three share two cores (four ran 40% longer where the kind lab, the
# small experiments and the benchmarks started together, and kubectl timed out); tests/conftest.py
# says what runs together on one worker.
TEST_WORKERS ?= 3
PARALLEL := -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder
# The slowest steps close the report: where the suite's time goes, run after run.
DURATIONS := --durations=30 --durations-min=10

# The tests that need no Docker, no lab tools and no browser.
test-fast: $(DEV_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/pytest -m "not kind and not provisioned and not browser"

test-kind: $(DEV_STAMP)
	$(BIN)/python -m demo node-image --if-needed
	$(BIN)/pytest -m kind

# The lab's ground: Debian packages and a running Docker engine, then the Kubernetes tools and
# the app's base image.
provision: $(LAB_STAMP)
	sh demo/host.sh
	$(BIN)/python -m demo provision
	$(BIN)/python -m demo node-image --if-needed

# The kind node image, built here from Debian packages and Go modules (demo/clusters/kind/nodeimage.py):
# for machines that cannot pull kindest/node. Cached by version in the tools cache.
node-image: $(LAB_STAMP)
	$(BIN)/python -m demo node-image

PROVIDER ?= kind
CLUSTERS ?= 3
AGENT ?= ours

doctor: $(LAB_STAMP)
	@$(BIN)/python -m demo doctor --provider $(PROVIDER)

# The lab's whole story, after the doctor's checks: push, then pull, then drift.
demo: $(LAB_STAMP)
	$(BIN)/python -m demo tour --provider $(PROVIDER) --clusters $(CLUSTERS) --agent $(AGENT)

# The measurements behind part 4, each writing docs/lab/results/NAME.json (SMALL=1: quick).
experiments: $(LAB_STAMP)
	$(BIN)/python -m demo experiment all $(if $(SMALL),--small) --provider $(or $(EXPERIMENT_PROVIDER),kwok)

# The lab page's recording of `make demo PROVIDER=kwok` (docs/lab/recordings/demo-kwok.cast).
record: $(LAB_STAMP)
	$(BIN)/python -m demo record

# The workshop's offline bundle (demo/offline/pack.py), and loading it on a laptop (demo/offline/load.py,
# standard library only: it makes the virtual environment from the bundle's wheels).
BUNDLE ?= tellit-offline.tar
prefetch: site $(LAB_STAMP)
	$(BIN)/python -m demo node-image --if-needed
	$(BIN)/python -m demo.offline.pack $(BUNDLE)

offline:
	$(PYTHON) -m demo.offline.load $(BUNDLE)

demo-up: $(LAB_STAMP)
	$(BIN)/python -m demo up --provider $(PROVIDER) --clusters $(CLUSTERS)

demo-status: $(LAB_STAMP)
	$(BIN)/python -m demo status

demo-down: $(LAB_STAMP)
	$(BIN)/python -m demo down

# Every benchmark runs, even after one misses a target; the command fails at the end if any did.
bench: $(LAB_STAMP)
	@status=0; for name in site lab kind gitserver delivery agents; do \
	  $(BIN)/python -m benchmarks.$$name || status=1; done; exit $$status

clean:
	rm -rf site .cache .artifacts $(VENV) *.egg-info node_modules
