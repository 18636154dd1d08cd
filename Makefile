# The two commands a newcomer needs: `make run` and `make test`. Each builds its own virtualenv.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
CONFIG ?= config.example.toml
# Debian packages the test suite needs: prometheus brings promtool (checks /metrics and the rules
# in contrib/prometheus); chromium is the browser tests/test_browser.py drives with Playwright;
# iproute2 (ip) and nftables (nft) give tests/test_location_netns.py its namespaces and faults;
# postgresql is the server the PostgreSQL backend's tests start themselves (initdb, pg_ctl).
SYSTEM_PACKAGES ?= prometheus chromium iproute2 nftables postgresql

.PHONY: run test bench lint check-config system-deps clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Reinstall only when the dependency list changes.
$(VENV)/.installed-run: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[speed]'
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test,speed]'
	touch $@ $(VENV)/.installed-run

run: $(VENV)/.installed-run
	$(BIN)/statuswatch run -c $(CONFIG)

check-config: $(VENV)/.installed-run
	$(BIN)/statuswatch check-config -c $(CONFIG)

system-deps:
	@missing=""; for p in $(SYSTEM_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing; \
	  else echo "Tests need these Debian packages: sudo apt-get install -y$$missing"; fi; \
	fi

test: $(VENV)/.installed-test system-deps
	$(BIN)/ruff check statuswatch tests bench
	$(BIN)/ruff format --check statuswatch tests bench
	$(BIN)/pytest $(PYTEST_ARGS)

bench: $(VENV)/.installed-test
	$(BIN)/python bench/probes.py $(BENCH_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check statuswatch tests bench
	$(BIN)/ruff format --check statuswatch tests bench

clean:
	rm -rf $(VENV) build dist *.egg-info .pytest_cache .ruff_cache
