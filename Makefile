# The two commands of the README's quick start, and the checks CI runs.
#   make demo   set up and answer a question end to end on the embedded default
#   make test   set up (dev) and run every test tier this machine can run
VENV ?= .venv
QUESTION ?= What is 15% of 200?

.PHONY: demo test lint setup setup-dev

setup:
	bash ops/setup.sh

setup-dev:
	bash ops/setup.sh --dev

demo: setup
	$(VENV)/bin/wm sandbox build-image
	$(VENV)/bin/wm query "$(QUESTION)"

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

test: setup-dev
	bash ops/test.sh
