"""``strata stripe ...``: drive a running emulator through its control endpoints.

The emulator is found at ``$STRATA_STRIPE_EMULATOR_URL``, which the ``strata``
command fills in from the running ``strata dev``'s ``.local/stack.json`` (default
``http://127.0.0.1:12111``, where ``strata dev`` starts it). Each command prints
one line (``events`` one per event); a failure raises ``ControlError``.
"""

from __future__ import annotations

import argparse
import json
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stripe_emulator.clock import iso

ENV_URL = "STRATA_STRIPE_EMULATOR_URL"
ENV_OFFSET_FILE = "STRATA_CLOCK_OFFSET_FILE"
DEFAULT_URL = "http://127.0.0.1:12111"
_TIMEOUT = 60.0


class ControlError(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def add_parser(
    commands: Any, register_webhook: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """Add ``stripe`` and its subcommands to ``commands`` (a subparsers action).

    ``register_webhook`` runs ``register-webhook``: it goes through the
    application's own Stripe adapter and settings, which the emulator does not
    import (they sit above it), so the caller hands it in."""
    stripe: argparse.ArgumentParser = commands.add_parser(
        "stripe",
        help="drive the local Stripe emulator: move its clock, fail payments, ...",
        description="Control the Stripe emulator that `strata dev` runs, at "
        f"${ENV_URL} (default: the running `strata dev`'s, else {DEFAULT_URL}).",
    )
    sub = stripe.add_subparsers(
        title="stripe commands", required=True, metavar="COMMAND"
    )

    advance = sub.add_parser(
        "advance",
        help="move the clock forward: renewals, trial ends and cancellations "
        "that fall due happen, with their webhooks",
    )
    amount = advance.add_mutually_exclusive_group(required=True)
    amount.add_argument("--days", type=float)
    amount.add_argument("--hours", type=float)
    amount.add_argument("--seconds", type=float)
    advance.set_defaults(stripe_run=_advance)

    fail = sub.add_parser(
        "fail-next-payment",
        help="make the next payment of a customer or subscription fail",
    )
    fail.add_argument("id", metavar="CUSTOMER_OR_SUBSCRIPTION")
    fail.add_argument(
        "--action-required",
        action="store_true",
        help="the payment needs the customer's action (3-D Secure) instead",
    )
    fail.add_argument(
        "--times",
        type=int,
        default=1,
        help="fail this many payments in a row (retries too): 4 outlasts the "
        "default retry schedule",
    )
    fail.set_defaults(stripe_run=_fail_next_payment)

    dunning = sub.add_parser(
        "dunning",
        help="what failed renewals do: the retry schedule and how it ends",
    )
    dunning.add_argument(
        "--retry-days",
        type=int,
        nargs="+",
        help="each retry so many days after the attempt before it (default 3 5 7)",
    )
    dunning.add_argument(
        "--final",
        choices=("canceled", "unpaid", "past_due"),
        help="the subscription once the last retry fails (default canceled)",
    )
    dunning.set_defaults(stripe_run=_dunning)

    refund = sub.add_parser(
        "refund", help="refund a charge (or a customer's newest), wholly by default"
    )
    refund.add_argument("id", metavar="CHARGE_OR_CUSTOMER")
    refund.add_argument("--amount", type=int, help="in the smallest currency unit")
    refund.set_defaults(stripe_run=_refund)

    dispute = sub.add_parser(
        "dispute", help="the cardholder disputes a charge (or a customer's newest)"
    )
    dispute.add_argument("id", metavar="CHARGE_OR_CUSTOMER")
    dispute.add_argument(
        "--outcome", choices=("won", "lost"), help="close the dispute at once so"
    )
    dispute.set_defaults(stripe_run=_dispute)

    for name, help_text in (
        ("renew", "renew a subscription now, as if its period had ended"),
        ("trial-end", "send trial_will_end, then end the trial now"),
        ("pause", "pause a subscription"),
        ("resume", "resume a paused subscription"),
    ):
        command = sub.add_parser(name, help=help_text)
        command.add_argument("subscription", metavar="SUBSCRIPTION")
        command.set_defaults(stripe_run=_subscription_action, action=name)

    replay = sub.add_parser("replay", help="deliver an event again (same id, body)")
    replay.add_argument("event", metavar="EVENT")
    replay.set_defaults(stripe_run=_replay)

    events = sub.add_parser("events", help="every event and its delivery status")
    events.add_argument("--limit", type=int, default=None, help="the last N only")
    events.set_defaults(stripe_run=_events)

    flush = sub.add_parser(
        "flush", help="wait until every webhook so far is delivered (or failed)"
    )
    flush.add_argument("--timeout", type=float, default=30.0)
    flush.set_defaults(stripe_run=_flush)

    reset = sub.add_parser("reset", help="forget every object and event; clock to 0")
    reset.set_defaults(stripe_run=_reset)

    register = sub.add_parser(
        "register-webhook",
        help="create the webhook endpoint for URL at Stripe (STRATA_STRIPE_API_KEY; "
        "the emulator under make dev), pinned to the adapter's API version and "
        "sending the events Strata handles; prints its signing secret",
    )
    register.add_argument(
        "url", metavar="URL", help="e.g. the stack's StripeWebhookUrl output"
    )
    register.set_defaults(stripe_run=register_webhook)
    return stripe


def run(args: argparse.Namespace) -> int:
    status: int = args.stripe_run(args)
    return status


def emulator_url() -> str:
    return (os.environ.get(ENV_URL) or DEFAULT_URL).rstrip("/")


def call(method: str, name: str, body: dict[str, Any] | None = None) -> Any:
    """One control request; its JSON answer, or ``ControlError``."""
    url = f"{emulator_url()}/_emulator/{name}"
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 (a configured http URL)
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=_TIMEOUT) as response:
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        raise ControlError(_error_message(exc)) from None
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        raise ControlError(
            f"the Stripe emulator is not reachable at {emulator_url()} ({reason}): "
            f"is `strata dev` running? ({ENV_URL} points elsewhere)"
        ) from None


def _error_message(exc: urllib.error.HTTPError) -> str:
    try:
        message = json.loads(exc.read())["error"]["message"]
    except (ValueError, KeyError, TypeError):
        message = f"HTTP {exc.code}"
    return f"the Stripe emulator refused: {message}"


def write_offset(offset: float) -> None:
    """Tell the local API's clock (``OffsetClock``) where the emulator's is."""
    target = os.environ.get(ENV_OFFSET_FILE)
    if not target:
        return
    path = Path(target)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(offset), encoding="utf-8")
    os.replace(temporary, path)


def _advance(args: argparse.Namespace) -> int:
    if args.days is not None:
        seconds, what = args.days * 86400, f"{args.days:g} days"
    elif args.hours is not None:
        seconds, what = args.hours * 3600, f"{args.hours:g} hours"
    else:
        seconds, what = args.seconds, f"{args.seconds:g} seconds"
    if seconds < 0:
        raise ControlError("the clock only moves forward")
    answer = call("POST", "advance", {"seconds": int(seconds)})
    write_offset(answer["offset"])
    print(
        f"advanced the Stripe clock by {what}: now {iso(answer['now'])} "
        f"(offset {answer['offset']} s); {answer['events']} events"
    )
    return 0


def _fail_next_payment(args: argparse.Namespace) -> int:
    key = "subscription" if args.id.startswith("sub_") else "customer"
    call(
        "POST",
        "fail-next-payment",
        {key: args.id, "action_required": args.action_required, "times": args.times},
    )
    outcome = "require action" if args.action_required else "fail"
    count = "payment" if args.times == 1 else f"{args.times} payments"
    print(f"the next {count} of {args.id} will {outcome}")
    return 0


def _dunning(args: argparse.Namespace) -> int:
    body: dict[str, Any] = {}
    if args.retry_days:
        body["dunning_retry_days"] = args.retry_days
    if args.final:
        body["dunning_final"] = args.final
    settings = call("POST", "settings", body)
    days = " ".join(str(d) for d in settings["dunning_retry_days"])
    print(
        f"failed renewals are retried after {days} days, then "
        f"{settings['dunning_final']}"
    )
    return 0


def _target(identifier: str) -> dict[str, str]:
    return {"charge" if identifier.startswith("ch_") else "customer": identifier}


def _refund(args: argparse.Namespace) -> int:
    body: dict[str, object] = dict(_target(args.id))
    if args.amount is not None:
        body["amount"] = args.amount
    charge = call("POST", "refund", body)
    print(
        f"refunded {charge['amount_refunded']} of {charge['amount']} "
        f"{charge['currency']} on {charge['id']}"
    )
    return 0


def _dispute(args: argparse.Namespace) -> int:
    body: dict[str, object] = dict(_target(args.id))
    if args.outcome is not None:
        body["outcome"] = args.outcome
    dispute = call("POST", "dispute", body)
    print(f"dispute {dispute['id']} of {dispute['charge']}: {dispute['status']}")
    return 0


def _subscription_action(args: argparse.Namespace) -> int:
    body = {"subscription": args.subscription}
    events: list[str] = []
    if args.action == "trial-end":
        events += call("POST", "trial-will-end", body)["events"]
        answer = call("POST", "end-trial", body)
    else:
        answer = call("POST", args.action, body)
    events += answer["events"]
    done = {
        "renew": "renewed",
        "trial-end": "ended the trial of",
        "pause": "paused",
        "resume": "resumed",
    }[args.action]
    status = answer["subscription"]["status"]
    # A per-seat subscription says how many seats it bills; a person's (one) not.
    quantity = answer["subscription"]["items"]["data"][0].get("quantity") or 1
    seats = f", {quantity} seats" if quantity != 1 else ""
    print(f"{done} {args.subscription}: now {status}{seats} ({len(events)} events)")
    return 0


def _replay(args: argparse.Namespace) -> int:
    answer = call("POST", "replay", {"event": args.event})
    print(f"replaying {answer['event']} ({answer['type']})")
    return 0


def _events(args: argparse.Namespace) -> int:
    events = call("GET", "events")["data"]
    if args.limit is not None:
        events = events[-args.limit :] if args.limit > 0 else []
    if not events:
        print("no events")
    for event in events:
        attempts = sum(len(d["attempts"]) for d in event["deliveries"])
        print(
            f"{event['id']}  {iso(event['created'])}  {event['type']:<40} "
            f"{event['object'] or '-'}  {event['status']} ({attempts} attempts)"
        )
    return 0


def _flush(args: argparse.Namespace) -> int:
    call("POST", "flush", {"timeout": args.timeout})
    failed = [e for e in call("GET", "events")["data"] if e["status"] == "failed"]
    if failed:
        raise ControlError(
            f"{len(failed)} webhook deliveries failed: "
            + ", ".join(f"{e['id']} ({e['type']})" for e in failed[:5])
        )
    print("every webhook is delivered")
    return 0


def _reset(args: argparse.Namespace) -> int:
    call("POST", "reset", {})
    write_offset(0)
    print("the Stripe emulator is reset: no objects, no events, clock offset 0")
    return 0
