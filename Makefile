# The two commands a newcomer needs: `make run` and `make test`.
# Everything else here is what those two are made of.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint typecheck ci clean hubspot-contract

$(STAMP): pyproject.toml
	@test -x $(PY) || { interp=$$(scripts/find-python) && echo "Creating $(VENV) with $$interp" && $$interp -m venv $(VENV); }
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-*
	@touch $(STAMP)

install: $(STAMP)

## Runs the app: web on http://127.0.0.1:8000, the django-q2 worker, demo data.
run: install
	@scripts/run

## Runs the whole test suite against PostgreSQL (DATABASE_URL, or 127.0.0.1:5432).
test: install
	@scripts/test $(ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/djlint templates --lint

typecheck: install
	$(VENV)/bin/mypy .

ci: test lint typecheck

## Airbyte's source-hubspot reads the HubSpot sandbox unchanged (not in CI: it installs
## the connector in .venv-contract/ with Python 3.10/3.11 and takes a few minutes).
hubspot-contract: install
	@scripts/hubspot-contract $(ARGS)

clean:
	rm -rf $(VENV) .venv-contract test-results .pytest_cache
