"""A real client can be generated from the OpenAPI document: openapi-typescript
(from node_modules, offline) writes its types and TypeScript's compiler accepts a
client written against them, every operation by its id."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from functions.catalog import ROOT
from local.dev_app import build_app

BIN = ROOT / "node_modules" / ".bin"

CLIENT = """\
import type { components, operations } from "./strata";

type Problem = components["schemas"]["Problem"];
type Checkout = operations["billing_checkout"];
type CheckoutBody = Checkout["requestBody"]["content"]["application/json"];
type CheckoutUrl = Checkout["responses"][200]["content"]["application/json"];
type Refused = Checkout["responses"][409]["content"]["application/problem+json"];
type Account = operations["me"]["responses"][200]["content"]["application/json"];

const conflict: Refused["code"] = "already_subscribed";
// @ts-expect-error: checkout never answers 409 with this code
const foreign: Refused["code"] = "username_taken";

export async function checkout(body: CheckoutBody): Promise<CheckoutUrl> {
  const reply = await fetch("/api/v1/billing/checkout", {
    method: "POST",
    credentials: "include",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!reply.ok) {
    const problem = (await reply.json()) as Problem;
    throw new Error(`${problem.status} ${problem.code}: ${problem.detail}`);
  }
  return (await reply.json()) as CheckoutUrl;
}

export const plan = (account: Account): string => account.plan;
export const codes = [conflict, foreign];
checkout({ plan: "pro", interval: "year", currency: "eur", payment_method: "card" });
"""


def run(*args: str, cwd: Path) -> None:
    result = subprocess.run(
        args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.node
def test_a_typescript_client_generated_from_the_document_compiles(
    tmp_path: Path,
) -> None:
    assert (BIN / "tsc").exists(), "run `npm ci` (make test does)"
    document = build_app().openapi()
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    # Each operation by its id: a missing or renamed one does not compile.
    ids = sorted(
        operation["operationId"]
        for operations in document["paths"].values()
        for operation in operations.values()
    )
    every = "\n".join(f'export type Op_{i} = operations["{i}"];' for i in ids)
    (tmp_path / "client.ts").write_text(f"{CLIENT}\n{every}\n")

    run(
        str(BIN / "openapi-typescript"), "openapi.json", "-o", "strata.ts", cwd=tmp_path
    )
    run(
        str(BIN / "tsc"),
        *("--noEmit", "--strict", "--target", "es2022", "--lib", "es2022,dom"),
        *("--module", "esnext", "--moduleResolution", "bundler"),
        "client.ts",
        cwd=tmp_path,
    )
