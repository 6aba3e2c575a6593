"""``strata dev`` refuses a bad configuration before it starts anything.

The running stack itself is tested end to end in tests/e2e.
"""

from __future__ import annotations

import pytest

from local.cli import main


@pytest.fixture(autouse=True)
def _no_inherited_ports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PORT", raising=False)
    monkeypatch.delenv("AWS_ENDPOINT_PORT", raising=False)


def test_dev_refuses_a_deployed_stage(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("STRATA_STAGE", "prod")

    status = main(["dev"])

    assert status == 1
    assert capsys.readouterr().err.strip() == (
        "strata: `strata dev` runs the local stage only, but STRATA_STAGE=prod; "
        "unset it"
    )


def test_dev_refuses_a_port_variable_that_is_not_a_port(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PORT", "eighty")

    status = main(["dev"])

    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "strata: PORT='eighty' is not a port number (1-65535)"
    )


def test_dev_refuses_a_port_flag_that_is_not_a_port(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["dev", "--aws-port", "70000"])

    assert exited.value.code == 2
    assert "'70000' is not a port number" in capsys.readouterr().err


def test_dev_refuses_one_port_for_both_the_api_and_moto(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["dev", "--port", "5123", "--aws-port", "5123"])

    assert status == 2
    assert capsys.readouterr().err.strip() == (
        "strata: the API and moto cannot share port 5123"
    )


def test_dev_refuses_the_apis_port_for_the_stripe_emulator(
    capsys: pytest.CaptureFixture[str],
) -> None:
    status = main(["dev", "--port", "5124", "--stripe-port", "5124"])

    assert status == 2
    assert "the Stripe emulator cannot share port 5124" in capsys.readouterr().err
