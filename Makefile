# The two commands: `make run` (install, migrate, demo data, serve everything) and `make test`.
# Without DATABASE_URL / REDIS_URL / CELERY_BROKER_URL both use embedded services under var/.
PYTHON ?= python3.12
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# pytest-xdist workers; each gets its own test database. TEST_WORKERS=0 runs in one process.
TEST_WORKERS ?= 2

.PHONY: run test lint format install migrate check typecheck clean-var

$(STAMP): requirements.txt requirements-dev.txt
	@if [ ! -x $(PY) ]; then \
		command -v $(PYTHON) >/dev/null 2>&1 || { \
			echo "$(PYTHON) was not found. Install Python 3.12 (with its venv module) or run:"; \
			echo "  make $(MAKECMDGOALS) PYTHON=/path/to/python3.12"; exit 1; }; \
		echo "Creating $(VENV) with $(PYTHON)"; \
		$(PYTHON) -m venv $(VENV) || { \
			echo "Creating the virtualenv failed; on Debian/Ubuntu: apt-get install python3.12-venv"; \
			exit 1; }; \
	fi
	@echo "Installing requirements into $(VENV) (first run takes a minute or two)"
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --disable-pip-version-check --progress-bar on -r requirements-dev.txt
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(PY) manage.py runall

migrate: $(STAMP)
	$(PY) manage.py migrate --noinput

# Without DATABASE_URL the suite runs on the embedded PostgreSQL, which is stopped afterwards
# unless it was already running (for example under `make run`).
test: $(STAMP)
	@was_running=1; \
	if [ -z "$$DATABASE_URL" ]; then $(PY) -m shop.embedded status >/dev/null || was_running=0; fi; \
	status=0; $(PY) -m pytest -n $(TEST_WORKERS) $(PYTEST_ARGS) || status=$$?; \
	if [ $$was_running = 0 ]; then $(PY) -m shop.embedded stop; fi; \
	exit $$status

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: $(STAMP)
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

typecheck: $(STAMP)
	$(VENV)/bin/mypy shop accounts sellers catalog search demo inventory pricing cart orders payments ledger reviews fulfilment purchasing

check: lint
	$(PY) manage.py makemigrations --check --dry-run

# Stops the embedded PostgreSQL (if running) and deletes its data, media and static files.
clean-var: $(STAMP)
	$(PY) -m shop.embedded stop
	rm -rf var/pgdata var/redis var/media var/staticfiles
