# The two commands of the README. Each one sets up what it needs first (scripts/setup.sh).
PYTHON ?= python3

.PHONY: setup run test bench demo

setup:
	@bash scripts/setup.sh

# The main job on embedded defaults: the live app with the bundled model and generic mapping.
# With no audio device it renders the bundled demo performance offline and says why.
run: setup
	$(PYTHON) -m semeq_live run

test: setup
	$(PYTHON) -m pytest -q -p no:cacheprovider

bench: setup
	$(PYTHON) -m semeq_live bench --json --quick
