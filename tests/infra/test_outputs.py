"""The management commands find a deployed stage through its stack's outputs."""

from __future__ import annotations

from infra_cdk.app import stack_name
from local.deployed import OUTPUT_SETTINGS
from local.deployed import stack_name as cli_stack_name
from tests.infra.conftest import Synth


def test_the_stack_writes_every_output_the_cli_reads(synth: Synth) -> None:
    outputs = synth.template.get("Outputs", {})

    assert set(OUTPUT_SETTINGS) <= set(outputs)
    assert "ApiUrl" in outputs


def test_the_cli_looks_for_the_stack_the_app_deploys(synth: Synth) -> None:
    assert cli_stack_name(synth.stage.name) == stack_name(synth.stage.name)


def test_the_functions_get_the_same_settings_the_cli_sets(synth: Synth) -> None:
    functions = synth.of_type("AWS::Lambda::Function")
    # CDK's own auto-delete handler (dev's buckets) has no environment.
    variables = [
        f["Properties"].get("Environment", {}).get("Variables", {})
        for f in functions.values()
    ]
    with_secrets = [v for v in variables if "STRATA_JWT_SECRET_ARN" in v]
    # The CLI hashes passwords (create-superadmin), as the functions with the
    # pepper do: those get every setting it reads, the others all but the pepper.
    with_pepper = [v for v in with_secrets if "STRATA_PASSWORD_PEPPER_ARN" in v]

    assert with_pepper
    for variables in with_secrets:
        wanted = set(OUTPUT_SETTINGS.values())
        if variables not in with_pepper:
            wanted.discard("STRATA_PASSWORD_PEPPER_ARN")
        assert wanted <= set(variables)
