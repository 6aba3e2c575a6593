# Strata: the workflow, by name. Every target installs what it needs into .venv.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
INFRA  := $(VENV)/.installed-infra
NODE   := node_modules/.installed
STAGES := dev staging prod
# The npm-installed CDK CLI, with no telemetry, update check or notices fetch.
CDK    := CDK_DISABLE_CLI_TELEMETRY=true CDK_DISABLE_VERSION_CHECK=true \
          JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 node_modules/.bin/cdk --no-notices

.PHONY: dev test lint typecheck imports unit integration functions e2e bench roundtrips format clean \
        build lock synth deploy destroy load fuzz email-latency

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# The CDK app's Python side (aws-cdk-lib, cdk-nag, cfn-lint), beside the dev tools.
$(INFRA): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,infra]'
	@touch $(INFRA)

# The pinned CDK CLI, into ./node_modules (never globally).
$(NODE): package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $(NODE)

## dev: the whole local stack (moto on :4566, the API on :8000, Swagger UI at /docs)
dev: $(STAMP)
	$(BIN)/strata dev

## test: every check: lint, types, import contracts, all test layers (infra included)
test: lint typecheck imports build $(NODE)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INFRA)
	$(BIN)/mypy

imports: $(INFRA)
	$(BIN)/lint-imports

unit integration functions e2e: $(STAMP)
	$(BIN)/pytest -q tests/$@

## bench: cold start, warm invocations and DynamoDB calls per function, beside three
##        references (the FastAPI floor, each function's dependency floor, a naive stack)
bench: $(STAMP)
	$(BIN)/python -m tools.bench

## roundtrips: DynamoDB calls per endpoint, counted through botocore's event hooks
roundtrips: $(STAMP)
	$(BIN)/python -m tools.roundtrips

## email-latency: sign-up to verification email in the outbox, on a throwaway stack
##                (SIGNUPS=10; BCRYPT_ROUNDS=n to change the hash cost)
email-latency: $(STAMP)
	$(BIN)/python -m tools.email_latency --signups $(or $(SIGNUPS),10) \
		$(if $(BCRYPT_ROUNDS),--bcrypt-rounds $(BCRYPT_ROUNDS))

## fuzz: Schemathesis over every API operation, 500 examples each
##       (EXAMPLES=n; SEED=n tries other inputs); make test runs a short version
fuzz: $(STAMP)
	STRATA_FUZZ_EXAMPLES=$(or $(EXAMPLES),500) $(if $(SEED),STRATA_FUZZ_SEED=$(SEED)) \
		$(BIN)/pytest -q --timeout=1800 tests/fuzz

LOAD := $(VENV)/.installed-load
$(LOAD): $(STAMP) pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev,load]'
	@touch $(LOAD)

## load: locust against a throwaway local stack on free ports
##       (USERS=20 SPAWN_RATE=5 DURATION=30s; BCRYPT_ROUNDS=n to change the hash cost)
load: $(LOAD)
	$(BIN)/python -m tools.load --users $(or $(USERS),20) --spawn-rate $(or $(SPAWN_RATE),5) \
		--duration $(or $(DURATION),30s) $(if $(BCRYPT_ROUNDS),--bcrypt-rounds $(BCRYPT_ROUNDS))

## build: the Lambda assets, no Docker: build/layer (locked deps) and build/code
build: $(INFRA)
	$(BIN)/python -m infra_cdk.build

## lock: regenerate requirements/lambda.txt from pyproject.toml's dependencies
lock: $(INFRA)
	$(BIN)/python -m infra_cdk.build lock

## synth: CloudFormation for every stage (or STAGE=name) into cdk.out/<stage>, offline
synth: build $(NODE)
	@for stage in $(or $(STAGE),$(STAGES)); do \
		echo "synth $$stage"; \
		AWS_EC2_METADATA_DISABLED=true $(CDK) synth -c stage=$$stage --quiet \
			--output cdk.out/$$stage || exit 1; \
	done

## deploy: needs AWS credentials and a bootstrapped account (STAGE, default dev)
deploy: build $(NODE)
	$(CDK) deploy -c stage=$(or $(STAGE),dev) --output cdk.out/$(or $(STAGE),dev)

## destroy: needs AWS credentials; STAGE must be named (prod keeps its data: RETAIN)
destroy: build $(NODE)
	@test -n "$(STAGE)" || { echo "usage: make destroy STAGE=dev|staging|prod"; exit 2; }
	$(CDK) destroy -c stage=$(STAGE) --output cdk.out/$(STAGE)

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .import_linter_cache .local build cdk.out \
		.hypothesis
