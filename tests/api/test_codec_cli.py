"""The codec server as staff use it: the official `temporal` CLI reading a sealed case through
`--codec-endpoint <API>/codec --codec-auth "Bearer <token>"`, against `python -m api` (uvicorn),
the real dev server and the sealed worker. Without the codec the CLI sees only ciphertext; an
analyst, a team's social worker and a caller without a token are refused, and the CLI says so.
(`workflow show` retries a refused decode until its deadline; `workflow query` reports it.)"""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.api.conftest import User, Users, referral
from tests.browser.conftest import (
    dashboard_url,  # noqa: F401  # the API as a process
    post_referral,
)
from tests.e2e.conftest import RunningWorker, TemporalCli, decode_payload, wait_until

pytestmark = pytest.mark.e2e


def start_through_the_api(url: str, intake: User) -> dict[str, Any]:
    """A case started as intake does it: the API seals the referral before Temporal sees it."""
    body = referral()
    post_referral(url, intake, body)
    return body


def codec_flags(url: str, user: User) -> list[str]:
    return ["--codec-endpoint", f"{url}/codec", "--codec-auth", f"Bearer {user.token}"]


def started_input(history: dict[str, Any]) -> Any:
    (started,) = [e for e in history["events"] if "workflowExecutionStartedEventAttributes" in e]
    return started["workflowExecutionStartedEventAttributes"]["input"]["payloads"]


def test_the_cli_reads_a_sealed_case_only_through_the_codec_server_with_a_readers_token(
    dashboard_url: str,  # noqa: F811  # the imported fixture
    sealed_worker: RunningWorker,
    users: Users,
) -> None:
    case = start_through_the_api(dashboard_url, users.intake)
    wid = f"referral-{case['referral_id']}"
    cli = TemporalCli(sealed_worker.address)
    query = ["workflow", "query", "--workflow-id", wid, "--type", "status"]

    sealed = cli("workflow", "show", "--workflow-id", wid)
    decoded = cli(
        "workflow", "show", "--workflow-id", wid, *codec_flags(dashboard_url, users.head_of_service)
    )

    assert case["child_ref"] not in json.dumps(sealed)
    (ciphertext,) = started_input(sealed)
    assert ciphertext["metadata"]["encoding"] == "YmluYXJ5L2VuY3J5cHRlZA=="  # binary/encrypted
    (opened,) = started_input(decoded)
    assert opened["metadata"]["encoding"] == "anNvbi9wbGFpbg=="  # json/plain
    referral_input = decode_payload(opened)
    assert referral_input["child_ref"] == case["child_ref"]
    assert referral_input["summary"] == case["summary"]

    def status() -> dict[str, Any] | None:
        answer = cli(*query, *codec_flags(dashboard_url, users.head_of_service))
        result: dict[str, Any] = answer["queryResult"][0]
        return result if result.get("referral_id") == case["referral_id"] else None

    assert wait_until("the decoded status", status, 30)["stage"] == "referral_received"
    for refused, reason in (
        (users.analyst, "may not open a case"),
        (users.social_worker_a, "may open every team's cases"),
    ):
        said = cli.fails(*query, *codec_flags(dashboard_url, refused)).stderr
        assert "querying workflow failed: Forbidden:" in said
        assert reason in said
        assert case["child_ref"] not in said
    anonymous = cli.fails(*query, "--codec-endpoint", f"{dashboard_url}/codec")
    assert "Unauthorized" in anonymous.stderr, anonymous.stderr
