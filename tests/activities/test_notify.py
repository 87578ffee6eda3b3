"""The notify activity, run in Temporal's ActivityEnvironment with a real outbox file."""

import json
from pathlib import Path

import pytest
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import Notifier, OutboxFile
from domain.notifications import Notification
from tests.domain.builders import clock_step_notice


def breach(referral_id: str = "R-1") -> Notification:
    return clock_step_notice(referral_id=referral_id)


def lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


async def test_a_notification_becomes_one_json_line_with_a_link(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    notifier = Notifier([OutboxFile(outbox)], "https://cse.example.org/")
    await ActivityEnvironment().run(notifier.notify, breach())
    [line] = lines(outbox)
    assert line["notification_id"] == "R-1:strategy_discussion-2:breach"
    assert line["roles"] == ["social_worker", "team_manager"]
    assert line["link"] == "https://cse.example.org/cases/R-1"
    assert line["due_at"] == "2026-09-03T22:59:59Z"


async def test_a_retried_notification_is_written_once(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    notifier = Notifier([OutboxFile(outbox)], "https://cse.example.org")
    env = ActivityEnvironment()
    await env.run(notifier.notify, breach())
    await env.run(notifier.notify, breach())
    assert len(lines(outbox)) == 1


async def test_a_restarted_worker_still_recognises_what_it_sent(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    env = ActivityEnvironment()
    await env.run(Notifier([OutboxFile(outbox)], "https://cse.example.org").notify, breach())
    restarted = Notifier([OutboxFile(outbox)], "https://cse.example.org")
    await env.run(restarted.notify, breach())
    await env.run(restarted.notify, breach("R-2"))
    assert [line["referral_id"] for line in lines(outbox)] == ["R-1", "R-2"]


class Down:
    name = "down"  # the label the notifier would give it unnamed

    async def deliver(self, notification: Notification, link: str) -> int:
        raise ConnectionError("mail relay unreachable")


class BadAddress:
    name = "badaddress"  # the label the notifier would give it unnamed

    async def deliver(self, notification: Notification, link: str) -> int:
        raise ApplicationError("address refused", type="PermanentDeliveryError")


async def test_every_channel_is_tried_and_a_failing_one_fails_the_attempt(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    notifier = Notifier([Down(), OutboxFile(outbox)], "https://cse.example.org")
    with pytest.raises(ConnectionError):
        await ActivityEnvironment().run(notifier.notify, breach())
    # The retry that follows does not write the outbox line twice.
    with pytest.raises(ConnectionError):
        await ActivityEnvironment().run(notifier.notify, breach())
    assert len(lines(outbox)) == 1


def test_a_notification_has_no_field_for_child_details() -> None:
    fields = set(Notification.model_fields)
    assert not fields & {"child_ref", "summary", "concerns", "note", "indicators"}


async def test_a_permanent_failure_waits_until_no_channel_could_still_succeed(
    tmp_path: Path,
) -> None:
    notifier = Notifier([BadAddress(), Down()], "https://cse.example.org")
    with pytest.raises(ConnectionError):  # retried: the relay may come back
        await ActivityEnvironment().run(notifier.notify, breach())
    alone = Notifier([BadAddress()], "https://cse.example.org")
    with pytest.raises(ApplicationError, match="address refused"):
        await ActivityEnvironment().run(alone.notify, breach())
