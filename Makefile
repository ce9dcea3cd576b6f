# cbec course kit: the README's two commands are `make demo` and `make test`.
# POSIX make; works in a fresh clone (the first target that needs it builds .venv).
.POSIX:

PYTHON = python3
VENV = .venv
VPY = $(VENV)/bin/python
STAMP = $(VENV)/.installed-stamp
EXTRAS = dev,browser,postgres
# Extra pytest arguments for `make test`, e.g. make test PYTEST_ARGS='-k plotting'
PYTEST_ARGS =

all: test

# Run the demo (the simulator, a graded trainee, a report).
demo: venv
	$(VENV)/bin/cbec demo

# Lint, make sure services are up (scripts/ensure-services), then the tests (scripts/run-tests).
test: lint
	bash scripts/ensure-services
	bash scripts/run-tests $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .

# Create .venv if missing; (re)install the project when pyproject.toml is newer than the stamp.
venv: $(STAMP)

$(STAMP): pyproject.toml
	@if [ ! -x $(VPY) ]; then \
	    $(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null || { \
	        echo "error: Python >= 3.11 is needed to create $(VENV), but '$(PYTHON)' is" \
	             "$$($(PYTHON) -V 2>&1 || echo missing). Run e.g.: make venv PYTHON=python3.11" >&2; \
	        exit 1; }; \
	    echo "creating $(VENV) with $$($(PYTHON) -V 2>&1)"; \
	    $(PYTHON) -m venv $(VENV); \
	fi
	@$(VPY) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { \
	    echo "error: $(VENV) has $$($(VPY) -V 2>&1); Python >= 3.11 is needed." \
	         "Remove $(VENV) and run: make venv PYTHON=python3.11" >&2; \
	    exit 1; }
	$(VPY) -m pip install --disable-pip-version-check -q -e '.[$(EXTRAS)]'
	@touch $(STAMP)

# Remove build output, caches and the test services (stops this checkout's PostgreSQL).
clean:
	bash scripts/ensure-services --clean
	rm -rf build dist .pytest_cache .ruff_cache
	find . -path ./$(VENV) -prune -o \( -name __pycache__ -o -name '*.egg-info' \) -type d \
	    -prune -exec rm -rf {} +

.PHONY: all demo test lint venv clean
