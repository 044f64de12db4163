# Stampwise: `make run` serves the demo, `make test` runs the checks and the test suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
export DJANGO_SETTINGS_MODULE := config.settings

.PHONY: install run test lint typecheck pytest worker beat bench e2e-deps clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	DEBUG=1 $(PY) manage.py migrate --noinput
	DEBUG=1 $(PY) manage.py seed_demo
	@echo ""
	@echo "  Stampwise is running:   http://127.0.0.1:8000/"
	@echo "  Owner dashboard:        http://127.0.0.1:8000/dashboard/"
	@echo "  Staff counter:          http://127.0.0.1:8000/staff/"
	@echo "  API docs:               http://127.0.0.1:8000/api/docs/"
	@echo "  Admin (operators):      http://127.0.0.1:8000/admin/  (python manage.py createsuperuser)"
	@echo "  Demo logins above, e.g. owner@demo-cafe.test / stampwise-demo"
	@echo ""
	DEBUG=1 $(PY) manage.py runserver 127.0.0.1:8000

lint: $(STAMP)
	$(VENV)/bin/ruff check .

typecheck: $(STAMP)
	STAMPWISE_TESTING=1 $(VENV)/bin/mypy $(wildcard */services.py */services */selectors.py)

pytest: $(STAMP)
	STAMPWISE_TESTING=1 $(PY) -m pytest $(PYTEST_ARGS)

test: lint typecheck pytest
	@STAMPWISE_TESTING=1 DEBUG=0 $(PY) manage.py makemigrations --check --dry-run >/dev/null \
		|| (echo "Model changes without a migration: run makemigrations" && exit 1)

worker: $(STAMP)
	@test -n "$$REDIS_URL" || (echo "Set REDIS_URL to run a worker (without it tasks run in-process)." && exit 1)
	$(VENV)/bin/celery -A config worker -l info

beat: $(STAMP)
	$(VENV)/bin/celery -A config beat -l info

bench: $(STAMP)
	@for f in bench/bench_*.py; do echo "== $$f"; STAMPWISE_TESTING=1 $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) staticfiles
