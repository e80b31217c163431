# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The stamp files record which dependency set is installed; they are rebuilt when pyproject.toml changes.
RUN_STAMP  := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test bench model check-model chat triage-graph skill-package lambda-package clean

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

# The interaction models, one per locale layer in interaction_model/source/locales/, are generated
# from interaction_model/source/; commit both. check-model checks every locale (hip-helper check-model --locale X: one).
model: $(RUN_STAMP)
	$(BIN)/hip-helper build-model

check-model: $(RUN_STAMP)
	$(BIN)/hip-helper check-model

chat: $(RUN_STAMP)
	$(BIN)/hip-helper chat

triage-graph: $(RUN_STAMP)
	$(BIN)/hip-helper triage-graph

# What the ASK CLI / SMAPI uploads (ask-resources.json's skillMetadata.src): the manifest plus every
# interaction model in interaction_model/. ENDPOINT_URI sets the self-hosted HTTPS endpoint.
# REGION_ENDPOINTS adds regional endpoints: "EU=https://eu.example.org/alexa FE=https://fe.example.org/alexa".
ENDPOINT_URI ?= $(HIP_HELPER_ENDPOINT_URI)
REGION_ENDPOINTS ?=
skill-package: $(RUN_STAMP)
	$(BIN)/hip-helper check-model
	$(BIN)/python deploy/skill_package.py --endpoint-uri '$(ENDPOINT_URI)' $(foreach pair,$(REGION_ENDPOINTS),--region '$(pair)')

# The AWS Lambda zip (ask-resources.json's code.src is its unpacked tree, build/lambda/): core
# dependencies as wheels for Lambda's platform. LAMBDA_ARCH=arm64 for Graviton, BUNDLE_BOTO3=1 to
# ship boto3 instead of the runtime's.
LAMBDA_ARCH ?= x86_64
lambda-package: $(RUN_STAMP)
	$(BIN)/python deploy/lambda/build.py --arch $(LAMBDA_ARCH) $(if $(BUNDLE_BOTO3),--bundle-boto3)

clean:
	rm -rf $(VENV) .pytest_cache .bench build
