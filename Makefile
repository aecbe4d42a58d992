# Library Classes — the two commands: `make run` (demo at http://127.0.0.1:8000) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test install dirs lint check-deploy clean-demo bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Re-install only when the dependencies change.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

dirs:
	mkdir -p var/mail var/media var/broker/queue var/broker/processed var/broker/control

## make run: install, migrate, load the demo semester, decide the courses past their cutoff (the
## week-out run), create the demo staff login, then serve the
## site with a Celery worker and beat (Ctrl-C stops all three).
run: install dirs
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py week_out
	$(BIN)/python manage.py demo_staff
	@echo "Library Classes: http://127.0.0.1:8000/  (back office: http://127.0.0.1:8000/staff/)"
	$(BIN)/honcho --procfile Procfile.dev start

## make test: install, check the import rule (lint-imports), then run the whole suite (every
## marker). DATABASE_URL picks PostgreSQL.
test: install
	$(BIN)/lint-imports
	$(BIN)/pytest

lint: install
	$(BIN)/ruff check .
	$(BIN)/lint-imports

check-deploy: install
	DJANGO_SETTINGS_MODULE=config.settings.production SECRET_KEY=check-only-$$(date +%s)-0123456789abcdefghijklmnopqrstuvwxyz \
	  ALLOWED_HOSTS=classes.library.example SITE_URL=https://classes.library.example REDIS_URL=redis://127.0.0.1:6379/0 \
	  $(BIN)/python manage.py check --deploy --fail-level WARNING

clean-demo:
	rm -rf var/db.sqlite3 var/broker var/mail var/celerybeat-schedule* var/localstripe.pickle

## make bench: the benchmark of issue 12 (bench/, not part of `make test`): starts its own stack
## (PostgreSQL database, Redis db 6, gunicorn, Celery, localstripe, an SMTP sink) on free ports,
## prints every figure with its goal, and fails on a correctness violation. QUICK=1: a few minutes.
bench: install
	$(BIN)/python -m pip install --quiet -e '.[dev,bench]'
	QUICK=$(QUICK) $(BIN)/python -m bench
