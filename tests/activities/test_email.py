"""The email channel against a real SMTP server (aiosmtpd, in process, on 127.0.0.1), run as
the notify activity in Temporal's ActivityEnvironment."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryUnavailable
from activities.email import EmailChannel, SmtpRelay, message_id
from activities.notify import Notifier, OutboxFile
from domain.directory import Directory
from domain.notifications import Notification, NotificationKind
from domain.policy import Policy, StepName
from domain.roles import Role
from edge.settings import Settings
from tests.domain.builders import clock_step_notice
from worker import build_channels

SENDER = "CSE pathway <cse-pathway@example.org>"
PUBLIC_URL = "https://cse.example.org"
LADDER = {s.step: s for s in Policy().ladder}
DIRECTORY = Directory.model_validate(
    {
        "roles": {
            "social_worker": ["cse-duty@example.org"],
            "team_manager": ["managers@example.org"],
            "specialist_safeguarding_lead": ["sspl@example.org"],
            "head_of_service": ["hos@example.org", "hos-deputy@example.org"],
            "strategic_lead": ["ad@example.org", "https://hooks.example.org/cse/ad"],
            "police_spoc": ["spoc@example.org"],
        },
        "teams": {"RAI-2": {"team_manager": ["rai2-manager@example.org"]}},
        "people": {"sw-7": "sw7@example.org"},
    }
)


@dataclass
class Mailbox:
    """An aiosmtpd handler that records every envelope and refuses chosen recipients."""

    port: int = 0
    envelopes: list[tuple[str, list[str], EmailMessage]] = field(default_factory=list)
    refuse: dict[str, str] = field(default_factory=dict)  # address -> SMTP reply
    refuse_data: str | None = None

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse_data:
            return self.refuse_data
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"

    def recipients(self) -> list[set[str]]:
        return [set(rcpts) for _, rcpts, _ in self.envelopes]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(mailbox: Mailbox, **smtp: Any) -> Controller:
    mailbox.port = mailbox.port or free_port()
    controller = Controller(mailbox, hostname="127.0.0.1", port=mailbox.port, **smtp)
    controller.start()
    return controller


@pytest.fixture
def mailbox() -> Iterator[Mailbox]:
    box = Mailbox()
    controller = serve(box)
    yield box
    controller.stop()


def relay(port: int, **overrides: Any) -> SmtpRelay:
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "sender": SENDER}
    settings |= {"starttls": False, "timeout_seconds": 5.0} | overrides
    return SmtpRelay(**settings)


def notice(
    step: StepName = StepName.breach,
    social_worker: str | None = "sw-7",
    complex_: bool = False,
    team: str = "RAI-2",
) -> Notification:
    rung = LADDER[step]
    roles = rung.roles + (rung.complex_case_roles if complex_ else [])
    return clock_step_notice(step, roles=roles, team=team, social_worker=social_worker)


async def notify(channel: EmailChannel, notification: Notification) -> None:
    await ActivityEnvironment().run(Notifier([channel], PUBLIC_URL).notify, notification)


LADDER_RECIPIENTS = [
    (StepName.reminder, "sw-7", False, {"sw7@example.org"}),
    (StepName.reminder, None, False, {"cse-duty@example.org"}),
    (StepName.breach, "sw-7", False, {"sw7@example.org", "rai2-manager@example.org"}),
    (StepName.breach, None, False, {"cse-duty@example.org", "rai2-manager@example.org"}),
    (StepName.escalation, "sw-7", False, {"hos@example.org", "hos-deputy@example.org"}),
    (
        StepName.escalation,
        "sw-7",
        True,
        {"hos@example.org", "hos-deputy@example.org", "sspl@example.org"},
    ),
    (StepName.strategic_escalation, "sw-7", True, {"ad@example.org"}),
]


@pytest.mark.parametrize(("step", "worker", "complex_", "expected"), LADDER_RECIPIENTS)
async def test_each_ladder_step_mails_exactly_its_roles(
    mailbox: Mailbox, step: StepName, worker: str | None, complex_: bool, expected: set[str]
) -> None:
    await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), notice(step, worker, complex_))
    assert mailbox.recipients() == [expected]
    [(mail_from, _, message)] = mailbox.envelopes
    assert mail_from == "cse-pathway@example.org"
    assert set(message["To"].split(", ")) == expected


async def test_the_message_says_which_case_what_is_due_when_and_where(mailbox: Mailbox) -> None:
    await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), notice())
    [(_, _, message)] = mailbox.envelopes
    assert message["Subject"] == notice().subject
    assert message["From"] == SENDER
    assert message["Message-ID"] == "<R-1=3Astrategy_discussion-2=3Abreach@example.org>"
    assert message["Auto-Submitted"] == "auto-generated"
    assert message.get_content_type() == "multipart/alternative"
    plain, rich = message.get_body(("plain",)), message.get_body(("html",))
    assert plain is not None
    assert rich is not None
    text, html = plain.get_content(), rich.get_content()
    for part in (text, html):
        assert "R-1" in part
        assert "strategy discussion" in part
        assert "Thursday 03 September 2026, 23:59 (Europe/London)" in part
        assert "https://cse.example.org/cases/R-1" in part
    assert "Step: breach" in text
    assert "You receive this as: social worker, team manager" in text
    assert '<a href="https://cse.example.org/cases/R-1">' in html


async def test_a_retry_carries_the_same_message_id_and_skips_who_has_it(mailbox: Mailbox) -> None:
    mailbox.refuse["rai2-manager@example.org"] = "450 4.2.1 Mailbox busy, try later"
    channel = EmailChannel(DIRECTORY, relay(mailbox.port))

    with pytest.raises(DeliveryUnavailable, match=r"rai2-manager@example.org \(SMTP 450"):
        await notify(channel, notice())
    del mailbox.refuse["rai2-manager@example.org"]
    await notify(channel, notice())
    await notify(channel, notice())  # everyone has it: nothing more is sent

    assert mailbox.recipients() == [{"sw7@example.org"}, {"rai2-manager@example.org"}]
    ids = {m["Message-ID"] for _, _, m in mailbox.envelopes}
    assert ids == {message_id(notice().notification_id, SENDER)}


async def test_a_restarted_worker_resends_under_the_same_message_id(mailbox: Mailbox) -> None:
    await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), notice())
    await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), notice())
    first, second = (m["Message-ID"] for _, _, m in mailbox.envelopes)
    assert first == second


async def test_a_relay_that_is_down_is_a_retryable_failure(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    down = EmailChannel(DIRECTORY, relay(free_port()))
    notifier = Notifier([OutboxFile(outbox), down], PUBLIC_URL)
    with pytest.raises(DeliveryUnavailable, match=r"email: relay 127\.0\.0\.1:\d+ unavailable"):
        await ActivityEnvironment().run(notifier.notify, notice())
    assert len(outbox.read_text().splitlines()) == 1


async def test_starttls_required_but_not_offered_is_retryable(mailbox: Mailbox) -> None:
    channel = EmailChannel(DIRECTORY, relay(mailbox.port, starttls=True))
    with pytest.raises(DeliveryUnavailable, match="STARTTLS"):
        await notify(channel, notice())
    assert mailbox.envelopes == []


async def test_a_refused_recipient_is_a_permanent_failure_naming_role_and_address(
    mailbox: Mailbox,
) -> None:
    mailbox.refuse["rai2-manager@example.org"] = "550 5.1.1 No such mailbox"
    channel = EmailChannel(DIRECTORY, relay(mailbox.port))

    with pytest.raises(ApplicationError) as failed:
        await notify(channel, notice())

    error = failed.value
    assert error.type == "PermanentDeliveryError"
    assert error.non_retryable
    assert "team_manager at rai2-manager@example.org" in error.message
    assert error.details == (
        {
            "channel": "email",
            "refused": [
                {
                    "roles": ["team_manager"],
                    "address": "rai2-manager@example.org",
                    "reason": "SMTP 550 5.1.1 No such mailbox",
                }
            ],
        },
    )
    assert mailbox.recipients() == [{"sw7@example.org"}]  # the others still got it


async def test_a_temporary_refusal_is_retried_before_a_permanent_one_is_reported(
    mailbox: Mailbox,
) -> None:
    mailbox.refuse["sw7@example.org"] = "550 5.1.1 No such mailbox"
    mailbox.refuse["rai2-manager@example.org"] = "451 4.3.0 Try again"
    channel = EmailChannel(DIRECTORY, relay(mailbox.port))
    with pytest.raises(DeliveryUnavailable):
        await notify(channel, notice())
    del mailbox.refuse["rai2-manager@example.org"]
    with pytest.raises(ApplicationError, match=r"social_worker at sw7@example\.org"):
        await notify(channel, notice())
    assert mailbox.recipients() == [{"rai2-manager@example.org"}]


async def test_a_message_refused_outright_is_permanent_for_every_recipient(
    mailbox: Mailbox,
) -> None:
    mailbox.refuse_data = "554 5.6.0 Message rejected"
    with pytest.raises(ApplicationError) as failed:
        await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), notice())
    [details] = failed.value.details
    assert {r["address"] for r in details["refused"]} == {
        "sw7@example.org",
        "rai2-manager@example.org",
    }


async def test_a_role_missing_from_the_directory_is_permanent(mailbox: Mailbox) -> None:
    orphan = notice().model_copy(update={"roles": [Role.named_nurse]})
    with pytest.raises(ApplicationError) as failed:
        await notify(EmailChannel(DIRECTORY, relay(mailbox.port)), orphan)
    assert failed.value.type == "PermanentDeliveryError"
    assert failed.value.details[0]["refused"][0]["roles"] == ["named_nurse"]
    assert mailbox.envelopes == []


async def test_the_relay_login_is_used_and_a_wrong_password_is_retried() -> None:
    def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
        good = isinstance(auth, LoginPassword) and auth.password == b"right-password"
        return AuthResult(success=good, handled=False)

    box = Mailbox()
    controller = serve(box, authenticator=authenticate, auth_require_tls=False)
    try:
        good = relay(box.port, username="cse", password="right-password")
        await notify(EmailChannel(DIRECTORY, good), notice())
        bad = relay(box.port, username="cse", password="wrong-password")
        with pytest.raises(DeliveryUnavailable, match=r"SMTPAuthenticationError\(535"):
            await notify(EmailChannel(DIRECTORY, bad), notice(StepName.escalation))
    finally:
        controller.stop()
    assert len(box.envelopes) == 1


def test_message_ids_are_one_to_one_and_fall_back_to_cse_invalid() -> None:
    assert message_id("R.1:a", SENDER) != message_id("R=2E1:a", SENDER)
    assert message_id("R-1:x", "nobody") == "<R-1=3Ax@cse.invalid>"
    assert message_id("R-é", "a@Example.ORG") == "<R-=C3=A9@example.org>"


def test_the_worker_sends_email_only_when_an_smtp_host_is_set(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox.jsonl"
    directory_file = tmp_path / "directory.toml"
    without_smtp = Settings(outbox_file=outbox, directory_file=directory_file)
    assert [type(c) for c in build_channels(without_smtp, None)] == [OutboxFile]
    with_smtp = Settings(
        outbox_file=outbox,
        directory_file=directory_file,
        smtp_host="127.0.0.1",
        notify_from=SENDER,
        webhook_secret="a-real-secret-of-some-length",
    )
    channels = build_channels(with_smtp, DIRECTORY)
    assert [type(c).__name__ for c in channels] == ["OutboxFile", "EmailChannel", "WebhookChannel"]
    emails_only = Directory.model_validate({"roles": {"mash": ["mash@example.org"]}})
    assert [type(c).__name__ for c in build_channels(without_smtp, emails_only)] == ["OutboxFile"]


def test_settings_refuse_an_incomplete_or_placeholder_email_set_up() -> None:
    with pytest.raises(ValueError, match="CSE_SMTP_HOST needs CSE_NOTIFY_FROM"):
        Settings(smtp_host="mail.example.org", directory_file=Path("d.toml"))
    with pytest.raises(ValueError, match=r"CSE_SMTP_HOST needs .* CSE_DIRECTORY_FILE"):
        Settings(smtp_host="mail.example.org", notify_from=SENDER)
    with pytest.raises(ValueError, match="CSE_SMTP_PASSWORD is a placeholder"):
        Settings(smtp_username="cse", smtp_password="changethis")
    with pytest.raises(ValueError, match="go together"):
        Settings(smtp_username="cse")
    with pytest.raises(ValueError, match="CSE_NOTIFY_FROM 'cse' is not an email address"):
        Settings(notify_from="cse")


def test_a_panel_document_is_announced_as_a_document_not_as_a_case() -> None:
    from activities.email import facts

    notice = Notification(
        notification_id="mase-panel-monthly@2026-12-01T09:00:00Z:mase_agenda",
        kind=NotificationKind.mase_agenda,
        referral_id="MASE-2026-12-01",
        team="all",
        roles=[Role.mase_chair],
        subject="MASE panel agenda, December 2026",
        link_path="/reports/2026-12-01/agenda.html",
    )
    labels = dict(
        facts(notice, "https://cse.example.org/reports/2026-12-01/agenda.html", [Role.mase_chair])
    )
    assert labels["Document"] == "panel agenda"
    assert "Case reference" not in labels
    assert labels["Open the panel agenda"].endswith("/agenda.html")
