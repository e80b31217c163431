# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp files record which dependency set is installed; they are rebuilt when pyproject.toml changes.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench check-model chat triage-graph skill-package lambda-package clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[web]'
	touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

run: $(RUN_STAMP)
	$(BIN)/hip-helper serve --dev

test: $(TEST_STAMP)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: $(TEST_STAMP)
	$(BIN)/python -m bench

check-model: $(RUN_STAMP)
	$(BIN)/hip-helper check-model

chat: $(RUN_STAMP)
	$(BIN)/hip-helper chat

triage-graph: $(RUN_STAMP)
	$(BIN)/hip-helper triage-graph

# What the ASK CLI / SMAPI uploads: the manifest plus the interaction model, which lives once in interaction_model/.
skill-package: $(RUN_STAMP)
	$(BIN)/hip-helper check-model
	rm -rf build/skill-package && mkdir -p build/skill-package/interactionModels/custom
	cp deploy/skill-package/skill.json build/skill-package/
	cp interaction_model/*.json build/skill-package/interactionModels/custom/

# An AWS Lambda zip: the package, its dependencies (with DynamoDB) and the content.
lambda-package: $(RUN_STAMP)
	rm -rf build/lambda && mkdir -p build/lambda
	$(BIN)/python -m pip install --quiet --target build/lambda '.[dynamodb]'
	cp -r content build/lambda/content
	cd build/lambda && ../../$(BIN)/python -m zipfile -c ../hip-helper-lambda.zip .

clean:
	rm -rf $(VENV) .pytest_cache .bench build
