"""``DynamoOneTimeTokens`` against moto: single use, expiring, bound to a purpose,
and stored only as a hash."""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.adapters.dynamodb.models import SessionItem, dynamodb_client
from core.adapters.dynamodb.one_time_tokens import DynamoOneTimeTokens
from core.adapters.dynamodb.sessions import DynamoSessionStore
from core.application.ports import LinkGrant

HOUR = timedelta(hours=1)


@pytest.fixture
def link_tokens(tables: None) -> DynamoOneTimeTokens:
    return DynamoOneTimeTokens()


def now() -> datetime:
    return datetime.now(UTC)


def sessions_table_items() -> list[dict[str, Any]]:
    client = dynamodb_client()
    items: list[dict[str, Any]] = client.scan(TableName=SessionItem.Meta.table_name)[
        "Items"
    ]
    return items


def test_a_token_is_consumed_once_for_its_user(
    link_tokens: DynamoOneTimeTokens,
) -> None:
    token = link_tokens.issue("verify_email", "user-1", now(), HOUR)

    assert link_tokens.consume("verify_email", token, now()) == LinkGrant("user-1", 0)
    assert link_tokens.consume("verify_email", token, now()) is None
    assert sessions_table_items() == []


def test_only_the_hash_of_a_token_is_stored(link_tokens: DynamoOneTimeTokens) -> None:
    token = link_tokens.issue("verify_email", "user-1", now(), HOUR)

    (item,) = sessions_table_items()
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert item["id"] == {"S": f"TOKEN#{digest}"}
    assert token not in json.dumps(item)
    assert item["token_user_id"] == {"S": "user-1"}
    assert item["purpose"] == {"S": "verify_email"}
    # The table's TTL attribute, in epoch seconds.
    assert "N" in item["expires_at"]


def test_tokens_are_long_random_and_url_safe(link_tokens: DynamoOneTimeTokens) -> None:
    issued = {link_tokens.issue("verify_email", "u", now(), HOUR) for _ in range(20)}

    assert len(issued) == 20
    for token in issued:
        assert len(token) >= 43  # 32 random bytes
        assert set(token) <= set(
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
        )


def test_an_expired_token_is_refused_though_ttl_has_not_removed_it(
    link_tokens: DynamoOneTimeTokens,
) -> None:
    issued_at = now() - HOUR - timedelta(seconds=2)
    token = link_tokens.issue("password_reset", "user-1", issued_at, HOUR)

    assert link_tokens.consume("password_reset", token, now()) is None
    assert len(sessions_table_items()) == 1


def test_a_token_is_refused_for_another_purpose_and_still_works_for_its_own(
    link_tokens: DynamoOneTimeTokens,
) -> None:
    token = link_tokens.issue("verify_email", "user-1", now(), HOUR)

    assert link_tokens.consume("password_reset", token, now()) is None
    assert link_tokens.consume("verify_email", token, now()) == LinkGrant("user-1", 0)


@pytest.mark.parametrize("token", ["", "unknown", "x" * 256, "é\u0000"])
def test_an_unknown_token_is_refused(
    link_tokens: DynamoOneTimeTokens, token: str
) -> None:
    assert link_tokens.consume("verify_email", token, now()) is None


def test_of_four_concurrent_uses_of_one_token_exactly_one_wins(
    link_tokens: DynamoOneTimeTokens,
) -> None:
    token = link_tokens.issue("password_reset", "user-1", now(), HOUR)
    results: list[LinkGrant | None] = []
    barrier = threading.Barrier(4)

    def use() -> None:
        barrier.wait()
        results.append(link_tokens.consume("password_reset", token, now()))

    threads = [threading.Thread(target=use) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert results.count(LinkGrant("user-1", 0)) == 1
    assert results.count(None) == 3


def test_tokens_stay_out_of_the_sessions_index(
    link_tokens: DynamoOneTimeTokens,
) -> None:
    link_tokens.issue("verify_email", "user-1", now(), HOUR)

    assert list(SessionItem.by_user.query("user-1")) == []
    assert DynamoSessionStore().delete_all_for_user("user-1") == 0
    assert len(sessions_table_items()) == 1
