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

.PHONY: dev test check test-all before-tests check-all typecheck-changed lint typecheck imports unit integration functions e2e bench roundtrips format clean \
        build lock synth deploy destroy load fuzz email-latency browser

comma := ,
# One line as an install phase starts and one with its time as it ends: a first
# run installs for minutes, and quiet installs would look like a hang.
define step
@echo "--> $(1)"; t=$$(date +%s); $(2) && echo "    done in $$(( $$(date +%s) - t )) s"
endef

# --no-compile: pip would byte-compile every installed module (aws-cdk-lib alone is
# thousands), about a minute here; Python compiles the few that run on first import.
PIP := $(BIN)/python -m pip install --quiet --no-compile

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(call step,pip: upgrading pip in $(VENV),$(PIP) --upgrade pip)
	$(call step,pip: the app and the dev tools,$(PIP) -e '.[dev]')
	@touch $(STAMP)

# The CDK app's Python side (aws-cdk-lib, cdk-nag, cfn-lint), beside the dev tools;
# on a fresh machine both in one pip run (one resolution, not two).
$(INFRA): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@test -f $(STAMP) || $(PIP) --upgrade pip
	$(call step,pip: the app$(comma) the dev tools and the CDK app's libraries,$(PIP) -e '.[dev$(comma)infra]')
	@touch $(STAMP) $(INFRA)

# The pinned CDK CLI, into ./node_modules (never globally).
$(NODE): package.json package-lock.json
	$(call step,npm: the pinned CDK CLI into node_modules,npm ci --no-audit --no-fund --loglevel=error)
	@touch $(NODE)

## dev: the whole local stack (moto on :4566, the API on :8000, Swagger UI at /docs)
##      (PERSIST=1 keeps users and subscriptions across restarts in .local/state,
##      RELOAD=1 restarts the API on code changes; `strata seed` fills it)
dev: $(STAMP)
	@echo "To start clean: rm -rf .local/state .local/outbox (PERSIST=1 keeps state there)"
	$(BIN)/strata dev $(if $(PERSIST),--persist) $(if $(RELOAD),--reload)

# Tests run on every core (pytest-xdist); what shares costly state (the CDK synth,
# the bench) stays on one worker (tests/conftest.py).
PYTEST := $(BIN)/pytest -q -n auto --dist loadgroup

# Each of test and check prints its own wall time (installs included) at the end.
define timed
	@start=$$(date +%s); \
	if $(MAKE) --no-print-directory $(1); then \
		echo "make $(2): passed in $$(( $$(date +%s) - start )) s (wall)"; \
	else \
		echo "make $(2): FAILED after $$(( $$(date +%s) - start )) s (wall)"; exit 1; \
	fi
endef

## test: every check: lint, types, import contracts, all test layers (infra included)
test:
	$(call timed,test-all,test)

# Once the libraries are in, what precedes the tests is independent: mypy (one
# core, the longest) beside lint, import contracts, the asset build and npm ci.
test-all: $(INFRA) browser
	@$(MAKE) --no-print-directory -j4 --output-sync=target before-tests
	$(call step,pytest: every layer,$(PYTEST))

before-tests: lint typecheck imports build $(NODE)

## browser: Debian's Chromium and ChromeDriver for the browser walkthrough; when
##          missing (and apt-get can), installed in the background while the rest of
##          make test runs (build/chromium-install.log); the test waits for it
browser:
	@$(PYTHON) -m tools.browser start

## check: the quick loop: lint, types of the changed code, import contracts, and the
##        unit, function and security tests on in-memory fakes (those marked moto or
##        node, the integration, e2e, infra, fuzz and bench layers are make test's)
check:
	$(call timed,check-all,check)

check-all: lint typecheck-changed imports
	$(PYTEST) -m "not moto and not node" tests/unit tests/functions tests/security

# mypy on the Python files changed against origin/main (or, without it, the
# uncommitted ones); its cache keeps a re-check to what those changes reach.
CHANGED_PY = $(shell { git diff --name-only --diff-filter=d \
	$$(git merge-base HEAD origin/main 2>/dev/null || echo HEAD) -- '*.py'; \
	git ls-files --others --exclude-standard -- '*.py'; } 2>/dev/null | sort -u | \
	grep -E '^(core|functions|local|infra_cdk|stripe_emulator|tools)/')

typecheck-changed: $(INFRA)
	@if [ -n "$(strip $(CHANGED_PY))" ]; then \
		echo "mypy on $(words $(CHANGED_PY)) changed file(s)"; \
		$(BIN)/mypy $(CHANGED_PY); \
	else echo "mypy: no changed Python file (make typecheck checks them all)"; fi

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(INFRA)
	$(call step,mypy: every package,$(BIN)/mypy)

imports: $(INFRA)
	$(BIN)/lint-imports

unit integration functions e2e: $(STAMP)
	$(PYTEST) tests/$@

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

## build: the Lambda assets, no Docker: build/layer (locked deps), build/layer-stripe
##        (the stripe SDK, for the functions that call Stripe) and build/code
build: $(INFRA)
	$(call step,build: the Lambda assets,$(BIN)/python -m infra_cdk.build)

## lock: regenerate requirements/lambda.txt (pyproject.toml's dependencies) and
##       requirements/lambda-stripe.txt (its billing extra: the stripe SDK's layer)
lock: $(INFRA)
	$(BIN)/python -m infra_cdk.build lock

## synth: CloudFormation for every stage (or STAGE=name) into cdk.out/<stage>, offline,
##        and each template's resource count (python -m infra_cdk.count)
synth: build $(NODE)
	@for stage in $(or $(STAGE),$(STAGES)); do \
		echo "synth $$stage"; \
		AWS_EC2_METADATA_DISABLED=true $(CDK) synth -c stage=$$stage --quiet \
			--output cdk.out/$$stage || exit 1; \
		JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION=20 \
			$(BIN)/python -m infra_cdk.count --outdir cdk.out/$$stage $$stage || exit 1; \
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
