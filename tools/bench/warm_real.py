"""Warm invocations of one function on its real adapters (DynamoDB on moto), beside
the FastAPI floor, in one child process (``child.py warm_real``).

The function's module is imported as in Lambda (its init builds the container on
moto), then both subjects are invoked in blocks, in turns; each call of the
function is timed in CPU less the CPU inside its DynamoDB calls (botocore's
before-call to after-call: signing, the round trip, parsing), which the gate's
``DynamoClock`` adds up. Writes ``{"function": [...], "floor": [...]}`` in ns.
"""

from __future__ import annotations

import gc
import json
import time
from importlib import import_module
from typing import Any

from tools.bench.child import Gate, lambda_context


def run(gate: Gate, result_path: str, config_path: str) -> None:
    with open(config_path, encoding="utf-8") as file:
        config: dict[str, Any] = json.load(file)
    floor = import_module(config["floor_module"]).handler
    function = import_module(config["module"]).handler
    floor_event, event = config["floor_event"], config["event"]
    expect = int(config["expect"])
    context = lambda_context()
    samples: dict[str, list[int]] = {"function": [], "floor": []}

    def call_floor() -> None:
        started = time.process_time_ns()
        floor(floor_event, context)
        samples["floor"].append(time.process_time_ns() - started)

    def call_function() -> None:
        dynamo = gate.dynamo.cpu
        started = time.process_time_ns()
        reply = function(event, context)
        spent = time.process_time_ns() - started
        if reply.get("statusCode") != expect:
            raise SystemExit(f"warm_real: expected {expect}, got {reply}")
        samples["function"].append(spent - int((gate.dynamo.cpu - dynamo) * 1e9))

    for _ in range(int(config["warmup"])):
        call_floor()
        call_function()
    samples = {"function": [], "floor": []}
    block = int(config["block"])
    for _ in range(max(1, int(config["invocations"]) // block)):
        gc.collect()
        for _ in range(block):
            call_floor()
        gc.collect()
        for _ in range(block):
            call_function()
    with open(result_path, "w", encoding="utf-8") as file:
        json.dump(samples, file)
