# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
NODE_STAMP := node_modules/.installed
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: run test bench setup system-deps clean

run: setup
	$(PY) -m server serve --host $${HOST:-127.0.0.1} --port $${PORT:-5000}

test: setup system-deps
	$(PY) -m pytest -q $(PYTEST_ARGS)

bench: setup
	$(PY) bench/run.py

setup: $(STAMP) $(NODE_STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@

$(NODE_STAMP): package.json
	npm install --no-audit --no-fund --silent
	touch $@

# The browser tests drive Debian's Chromium (Playwright never downloads a browser here).
system-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is missing: run 'sudo apt-get install chromium' (browser tests will be skipped)"; fi; }

clean:
	rm -rf $(VENV) node_modules .pytest_cache
