# Two commands on a fresh machine with only Python 3.11: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
# Development defaults; production sets its own environment (see .env.example).
export DEBUG ?= 1

.PHONY: run serve test worker lint venv install install-dev messages compilemessages check-gettext migrate seed clean

$(BIN)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is required")'
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt
	touch $@

$(BIN)/.installed-dev: $(BIN)/.installed requirements-dev.txt
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(BIN)/.installed
install-dev: $(BIN)/.installed-dev

check-gettext:
	@command -v msgfmt >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing gettext (needed to compile translations)…"; \
	    apt-get update -qq && apt-get install -y -qq gettext >/dev/null; \
	  else \
	    echo "gettext is missing: install it (Debian/Ubuntu: sudo apt-get install gettext; macOS: brew install gettext)" >&2; exit 1; \
	  fi; }

compilemessages: install check-gettext
	$(PY) manage.py compilemessages --ignore='.venv/*' -v0

# Refresh the Latvian catalogue after changing user-facing strings (then translate the new ones).
messages: install check-gettext
	$(PY) manage.py makemessages -l lv --no-location --ignore='.venv/*' --ignore='staticfiles/*' --ignore='bench/*'

# The cache table holds the throttles' counts (password reset mails), shared by every worker.
migrate: install
	$(PY) manage.py migrate --noinput
	$(PY) manage.py createcachetable

seed: migrate
	$(PY) manage.py seed_demo

run: compilemessages seed
	@echo ""
	@echo "Benchlearning portal: http://$(HOST):$(PORT)/  (demo accounts above, password benchlearning-demo)"
	$(PY) manage.py runserver $(HOST):$(PORT)

# Production-style serving (DEBUG off: SECRET_KEY, ALLOWED_HOSTS and DATABASE_URL from the environment).
# Threads overlap one request's database waits with another's work (bench/load.py: 2x the throughput).
# Each thread keeps its database connection 60 s (checked before reuse): a new one per request
# costs a page a few milliseconds (bench/pages.py measures the pages so).
serve: compilemessages
	DEBUG=0 $(PY) manage.py collectstatic --noinput -v0
	DEBUG=0 $(PY) manage.py migrate --noinput
	DEBUG=0 $(PY) manage.py createcachetable
	DEBUG=0 DB_CONN_MAX_AGE=$${DB_CONN_MAX_AGE:-60} $(BIN)/gunicorn benchlearning.wsgi --bind $(HOST):$(PORT) --workers $${WEB_CONCURRENCY:-2} \
	  --threads $${WEB_THREADS:-4} --access-logfile -

test: install-dev compilemessages
	$(BIN)/pytest $(PYTEST_ARGS)

# The worker keeps its database connections between tasks: a new one costs an incremental
# recompute ~25 ms (bench/run.py). It consumes the default queue and RECOMPUTE_QUEUE when set.
# On more than one machine (docs/architecture.md): the beat on one host only, `WORKER_BEAT=`
# on the others; `WORKER_QUEUES=recompute` makes a host compute recomputes and nothing else.
comma := ,
WORKER_QUEUES ?= celery$(if $(RECOMPUTE_QUEUE),$(comma)$(RECOMPUTE_QUEUE))
WORKER_BEAT ?= --beat
WORKER_CONCURRENCY ?= 2
worker: install
	@test -n "$$CELERY_BROKER_URL" || { echo "Set CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0) for a worker" >&2; exit 1; }
	DB_CONN_MAX_AGE=$${DB_CONN_MAX_AGE:-60} $(BIN)/celery -A benchlearning worker $(WORKER_BEAT) --loglevel=INFO \
	  --concurrency=$(WORKER_CONCURRENCY) -Q $(WORKER_QUEUES)

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -c pyproject.toml -r . --severity-level medium
	$(PY) -m pip check
	DEBUG=0 SECRET_KEY=$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))') ALLOWED_HOSTS=portal.example.org \
	  $(PY) manage.py check --deploy --fail-level WARNING

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache db.sqlite3
