"""The GOV.UK Notify channel against a stand-in for Notify's REST API (on 127.0.0.1, checking
the JWT as Notify does: tests/govuk_notify_standin.py), run as the notify activity in
Temporal's ActivityEnvironment."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, TypedDict

import httpx
import jwt
import pytest
from pydantic import ValidationError
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.delivery import DeliveryUnavailable
from activities.govuk_notify import GovukNotifyChannel, NotifyService
from activities.notify import Notifier
from domain.directory import AddressKind, Directory
from domain.govuk_notify import NotifyTemplateError, NotifyTemplates
from domain.notifications import Addressee, Notification, NotificationKind, event_notice
from domain.roles import Role
from edge.settings import Settings
from tests.domain.builders import clock_step_notice
from tests.govuk_notify_standin import NotifyStandIn, Template, serving
from worker import build_channels

PUBLIC_URL = "https://cse.example.org"
# The shape of Notify's documented example key (its ids are Notify's own documentation's).
KEY = "cse_live-26785a09-ab16-4eb0-8407-a37497a57506-3d844edf-8d35-48ac-975b-e847b4f122b0"
SW7_PHONE, RAI2_PHONE = "07700 900007", "07700 900002"  # Ofcom's range for drama
EMAIL_IDS = {
    k: f"00000000-0000-4000-8000-1000000000{i:02d}" for i, k in enumerate(NotificationKind)
}
SMS_IDS = {k: f"00000000-0000-4000-8000-2000000000{i:02d}" for i, k in enumerate(NotificationKind)}
TEMPLATES = NotifyTemplates.model_validate({"email": EMAIL_IDS, "sms": SMS_IDS})
DIRECTORY = Directory.model_validate(
    {
        "roles": {
            "social_worker": ["cse-duty@example.org"],
            "team_manager": ["managers@example.org"],
            "mash": ["https://hooks.example.org/cse/mash"],
        },
        "teams": {"RAI-2": {"team_manager": ["rai2-manager@example.org", RAI2_PHONE]}},
        "people": {"sw-7": ["sw7@example.org", SW7_PHONE]},
    }
)
BREACH_FIELDS = {
    "case_reference": "R-1",
    "what": "strategy discussion overdue",
    "when": "Thursday 03 September 2026, 23:59 (Europe/London)",
    "link": "https://cse.example.org/dashboard/cases/R-1",
}


def standin_templates() -> dict[str, Template]:
    """Notify's side of the templates: each uses every field, as a borough's would."""
    email = Template("email", "((what))\nDue: ((when))\n((link))", "Case ((case_reference))")
    sms = Template("sms", "Case ((case_reference)): ((what)). ((when)) ((link))")
    return {i: email for i in EMAIL_IDS.values()} | {i: sms for i in SMS_IDS.values()}


@pytest.fixture
def notify() -> Iterator[NotifyStandIn]:
    with serving(NotifyStandIn(templates=standin_templates())) as standin:
        yield standin


def channel(
    standin: NotifyStandIn, key: str | None = None, timeout: float = 5.0, **options: Any
) -> GovukNotifyChannel:
    service = NotifyService.from_api_key(key or standin.api_key(), standin.url)
    client = httpx.AsyncClient(timeout=httpx.Timeout(timeout))
    return GovukNotifyChannel(DIRECTORY, service, TEMPLATES, client=client, **options)


def breach(roles: list[Role] | None = None) -> Notification:
    return clock_step_notice(
        notification_id="R-1~k1:strategy_discussion-2:breach",
        roles=roles,
        link_path="/dashboard/cases/R-1",
    )


async def send(through: GovukNotifyChannel, notification: Notification) -> None:
    await ActivityEnvironment().run(Notifier([through], PUBLIC_URL).notify, notification)


async def test_a_notification_goes_out_with_only_the_case_what_when_and_link(
    notify: NotifyStandIn,
) -> None:
    await send(channel(notify), breach())

    bodies = {(r.path, r.recipient): r.body for r in notify.accepted()}
    assert bodies == {
        ("/v2/notifications/email", "sw7@example.org"): {
            "email_address": "sw7@example.org",
            "template_id": EMAIL_IDS[NotificationKind.clock_step],
            "personalisation": BREACH_FIELDS,
            "reference": "R-1~k1:strategy_discussion-2:breach",
        },
        ("/v2/notifications/email", "rai2-manager@example.org"): {
            "email_address": "rai2-manager@example.org",
            "template_id": EMAIL_IDS[NotificationKind.clock_step],
            "personalisation": BREACH_FIELDS,
            "reference": "R-1~k1:strategy_discussion-2:breach",
        },
        ("/v2/notifications/sms", SW7_PHONE): {
            "phone_number": SW7_PHONE,
            "template_id": SMS_IDS[NotificationKind.clock_step],
            "personalisation": BREACH_FIELDS,
            "reference": "R-1~k1:strategy_discussion-2:breach",
        },
        ("/v2/notifications/sms", RAI2_PHONE): {
            "phone_number": RAI2_PHONE,
            "template_id": SMS_IDS[NotificationKind.clock_step],
            "personalisation": BREACH_FIELDS,
            "reference": "R-1~k1:strategy_discussion-2:breach",
        },
    }
    assert len(notify.received) == 4  # nothing refused, no webhook or duplicate


async def test_each_request_carries_a_token_as_notify_documents(notify: NotifyStandIn) -> None:
    await send(channel(notify), breach([Role.team_manager]))
    for request in notify.received:
        scheme, token = request.headers["Authorization"].split(" ")
        assert scheme == "Bearer"
        assert jwt.get_unverified_header(token) == {"alg": "HS256", "typ": "JWT"}
        assert set(request.claims) == {"iss", "iat"}
        assert request.claims["iss"] == notify.service_id
        assert abs(request.claims["iat"] - time.time()) < 5
        assert request.headers["Content-Type"] == "application/json"
        assert notify.secret not in str(request.headers) + str(request.body)  # signs, never sent


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (NotificationKind.allocation, "case allocated"),
        (NotificationKind.missing_episode, "missing episode recorded"),
        (NotificationKind.delivery_failed, "a notification could not be delivered (R-1~k1:x)"),
    ],
)
async def test_each_kind_of_notification_uses_its_own_templates(
    notify: NotifyStandIn, kind: NotificationKind, what: str
) -> None:
    to = Addressee(referral_id="R-1", team="RAI-2", social_worker="sw-7", case_key="k1")
    await send(channel(notify), event_notice(to, kind, "5", [Role.social_worker], what))
    sent = {r.path: r.body for r in notify.accepted()}
    assert sent["/v2/notifications/email"]["template_id"] == EMAIL_IDS[kind]
    assert sent["/v2/notifications/sms"]["template_id"] == SMS_IDS[kind]
    for body in sent.values():
        assert body["personalisation"] == {
            "case_reference": "R-1",
            "what": what,
            "when": "",
            "link": "https://cse.example.org/dashboard/cases/R-1",
        }
        assert body["reference"] == f"R-1~k1:{kind.value}-5"


@pytest.mark.parametrize(
    ("status", "error"), [(500, "Exception"), (503, "Exception"), (429, "RateLimitError")]
)
async def test_a_failing_or_busy_notify_is_retried_under_the_same_reference(
    notify: NotifyStandIn, status: int, error: str
) -> None:
    notify.answers[RAI2_PHONE] = [status]
    through = channel(notify)

    with pytest.raises(DeliveryUnavailable, match=rf"{RAI2_PHONE} \(Notify {status} {error}: "):
        await send(through, breach())
    await send(through, breach())
    await send(through, breach())  # everyone has it now: nothing more is sent

    assert [r.recipient for r in notify.received].count(RAI2_PHONE) == 2
    assert len(notify.accepted()) == 4
    assert {r.body["reference"] for r in notify.received} == {breach().notification_id}


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (400, "Notify 400 BadRequestError: Can't send to this recipient using a team-only API key"),
        (403, "Notify 403 AuthError: Invalid token: API key not found"),
    ],
)
async def test_a_refused_request_is_a_permanent_failure_naming_role_and_address(
    notify: NotifyStandIn, status: int, reason: str
) -> None:
    notify.answers[RAI2_PHONE] = [status]
    with pytest.raises(ApplicationError) as failed:
        await send(channel(notify), breach())
    error = failed.value
    assert error.type == "PermanentDeliveryError"
    assert error.non_retryable
    assert error.details == (
        {
            "channel": "govuk_notify",
            "refused": [{"roles": ["team_manager"], "address": RAI2_PHONE, "reason": reason}],
        },
    )
    assert len(notify.accepted()) == 3  # the other addresses still got it


async def test_a_wrong_key_is_refused_by_notify_and_never_retried(notify: NotifyStandIn) -> None:
    wrong_secret = f"cse-tests-{notify.service_id}-00000000-0000-4000-8000-000000000000"
    with pytest.raises(ApplicationError) as failed:
        await send(channel(notify, key=wrong_secret), breach([Role.team_manager]))
    assert failed.value.type == "PermanentDeliveryError"
    reasons = {r["reason"] for r in failed.value.details[0]["refused"]}
    assert reasons == {"Notify 403 AuthError: Invalid token: API key not found"}
    assert notify.accepted() == []


class SlowClock(NotifyService):
    def token(self) -> str:  # issued 31 s ago: as if our clock ran behind
        claims = {"iss": self.service_id, "iat": int(time.time()) - 31}
        return jwt.encode(claims, self.secret, algorithm="HS256")


async def test_a_token_older_than_30_seconds_is_refused_as_notify_refuses_it(
    notify: NotifyStandIn,
) -> None:
    service = SlowClock(notify.service_id, notify.secret, notify.url)
    with pytest.raises(ApplicationError) as failed:
        await send(GovukNotifyChannel(DIRECTORY, service, TEMPLATES), breach([Role.team_manager]))
    [reason] = {r["reason"] for r in failed.value.details[0]["refused"]}
    assert reason == (
        "Notify 403 AuthError: Error: Your system clock must be accurate to within 30 seconds"
    )


def test_the_key_gives_the_service_id_and_the_secret_which_is_never_shown() -> None:
    service = NotifyService.from_api_key(KEY, "https://api.notifications.service.gov.uk/")
    assert service.service_id == "26785a09-ab16-4eb0-8407-a37497a57506"
    assert service.secret == "3d844edf-8d35-48ac-975b-e847b4f122b0"
    assert service.base_url == "https://api.notifications.service.gov.uk"
    assert "3d844edf" not in repr(service)
    claims = jwt.decode(service.token(), service.secret, algorithms=["HS256"])
    assert claims["iss"] == service.service_id


async def test_transient_failures_are_retried_before_a_permanent_one_is_reported(
    notify: NotifyStandIn,
) -> None:
    notify.answers[RAI2_PHONE] = [400, 400]
    notify.answers["rai2-manager@example.org"] = [500]
    through = channel(notify)
    with pytest.raises(DeliveryUnavailable, match=r"rai2-manager@example\.org"):
        await send(through, breach([Role.team_manager]))
    with pytest.raises(ApplicationError, match=RAI2_PHONE) as failed:
        await send(through, breach([Role.team_manager]))
    assert failed.value.type == "PermanentDeliveryError"
    assert [r.recipient for r in notify.accepted()] == ["rai2-manager@example.org"]


async def test_notify_unreachable_or_too_slow_is_retried(notify: NotifyStandIn) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{sock.getsockname()[1]}"
    down = GovukNotifyChannel(
        DIRECTORY, NotifyService.from_api_key(notify.api_key(), closed), TEMPLATES
    )
    with pytest.raises(DeliveryUnavailable, match="Notify unreachable: ConnectError"):
        await send(down, breach([Role.team_manager]))

    notify.delay = 1.0
    with pytest.raises(DeliveryUnavailable, match="Notify unreachable: ReadTimeout"):
        await send(channel(notify, timeout=0.2), breach([Role.team_manager]))


async def test_with_email_left_to_smtp_notify_sends_only_text_messages(
    notify: NotifyStandIn,
) -> None:
    await send(channel(notify, kinds=[AddressKind.sms]), breach())
    assert sorted(r.recipient for r in notify.received) == [RAI2_PHONE, SW7_PHONE]


async def test_a_role_missing_from_the_directory_is_permanent(notify: NotifyStandIn) -> None:
    with pytest.raises(ApplicationError) as failed:
        await send(channel(notify), breach([Role.police_spoc]))
    assert failed.value.details[0]["refused"][0]["reason"] == "no address in the directory"
    assert notify.received == []


# ---- settings and the worker's wiring ------------------------------------------------------


class NotifyFiles(TypedDict):
    """Settings' files for Notify, passed as keywords to more than one Settings."""

    directory_file: Path
    govuk_notify_templates: Path


class SmtpRelay(TypedDict):
    """Settings' SMTP relay, passed as keywords beside NotifyFiles."""

    smtp_host: str
    notify_from: str


def test_a_notify_key_of_the_wrong_shape_is_refused_without_echoing_it() -> None:
    for bad in ("3d844edf-8d35-48ac-975b-e847b4f122b0", KEY[:-1], KEY.replace("-", "_"), "x" * 80):
        with pytest.raises(ValidationError) as refused:
            Settings(govuk_notify_api_key=bad)
        assert "not a GOV.UK Notify API key" in str(refused.value)
        assert bad not in str(refused.value)
        assert "3d844edf" not in str(refused.value)
    for placeholder in ("changethis", "CHANGEME", "secret", ""):
        with pytest.raises(ValidationError, match="CSE_GOVUK_NOTIFY_API_KEY is a placeholder"):
            Settings(govuk_notify_api_key=placeholder)


def test_notify_needs_its_templates_and_shares_email_with_smtp_only_by_choice(
    tmp_path: Path,
) -> None:
    files = NotifyFiles(
        directory_file=tmp_path / "d.toml", govuk_notify_templates=tmp_path / "t.toml"
    )
    settings = Settings(govuk_notify_api_key=KEY, **files)
    assert settings.govuk_notify_base_url == "https://api.notifications.service.gov.uk"
    assert KEY not in repr(settings)
    with pytest.raises(ValidationError, match="needs CSE_GOVUK_NOTIFY_TEMPLATES"):
        Settings(govuk_notify_api_key=KEY, directory_file=tmp_path / "d.toml")
    smtp = SmtpRelay(smtp_host="127.0.0.1", notify_from="cse@example.org")
    with pytest.raises(ValidationError, match="CSE_GOVUK_NOTIFY_EMAIL=false"):
        Settings(govuk_notify_api_key=KEY, **files, **smtp)
    texts_only = Settings(govuk_notify_api_key=KEY, govuk_notify_email=False, **files, **smtp)
    assert not texts_only.govuk_notify_email
    for url in ("http://api.notifications.service.gov.uk", "ftp://127.0.0.1", "notify"):
        with pytest.raises(ValidationError, match="CSE_GOVUK_NOTIFY_BASE_URL"):
            Settings(govuk_notify_base_url=url)
    assert Settings(govuk_notify_base_url="http://127.0.0.1:9/").govuk_notify_base_url == (
        "http://127.0.0.1:9"
    )


def test_the_worker_wires_notify_from_settings(notify: NotifyStandIn, tmp_path: Path) -> None:
    templates = tmp_path / "templates.toml"
    email = "\n".join(f'{k.value} = "{i}"' for k, i in EMAIL_IDS.items())
    templates.write_text(f"[email]\n{email}\n", encoding="utf-8")
    settings = Settings(
        outbox_file=tmp_path / "outbox.jsonl",
        directory_file=tmp_path / "d.toml",
        webhook_secret="a-webhook-secret-for-tests-only",
        govuk_notify_api_key=notify.api_key(),
        govuk_notify_base_url=notify.url,
        govuk_notify_templates=templates,
    )
    email_only = Directory.model_validate({"roles": {"team_manager": ["tm@example.org"]}})
    [_, wired] = build_channels(settings, email_only)
    assert isinstance(wired, GovukNotifyChannel)
    assert wired.kinds == (AddressKind.email, AddressKind.sms)
    assert wired.service.base_url == notify.url
    assert notify.secret not in repr(wired.service)

    with pytest.raises(NotifyTemplateError, match=r"templates\.toml: no \[sms\] table"):
        build_channels(settings, DIRECTORY)


async def test_after_a_restart_what_notify_already_accepted_is_not_sent_again(
    notify: NotifyStandIn,
) -> None:
    """The first worker sent to some addresses and died before recording it; the next one
    (a fresh channel, remembering nothing) asks Notify by reference and sends only the rest."""
    notify.answers[RAI2_PHONE] = [500]
    with pytest.raises(DeliveryUnavailable):
        await send(channel(notify), breach())
    first = sorted(r.recipient for r in notify.accepted())
    assert RAI2_PHONE not in first

    await send(channel(notify), breach())  # a new worker: nothing remembered in memory

    sent = [r.recipient for r in notify.accepted()]
    assert sorted(sent) == sorted([*first, RAI2_PHONE]), "each address once"
    assert all("reference=R-1~k1" in q or "reference=R-1%7Ek1" in q for q in notify.lookups)
    assert {"template_type=email", "template_type=sms"} <= {
        part for q in notify.lookups for part in q.split("&")
    }


async def test_a_phone_number_notify_wrote_in_international_form_is_recognised(
    notify: NotifyStandIn,
) -> None:
    await send(channel(notify), breach())
    for listed in notify.notifications:
        if listed["phone_number"]:
            listed["phone_number"] = "+44" + listed["phone_number"].replace(" ", "")[1:]
    count = len(notify.accepted())
    await send(channel(notify), breach())
    assert len(notify.accepted()) == count


async def test_when_notify_cannot_say_what_it_accepted_the_messages_are_sent(
    notify: NotifyStandIn,
) -> None:
    notify.lookup_answers = [500, 503]  # email, then text messages
    await send(channel(notify), breach())
    assert len(notify.accepted()) == 4  # two emails and two text messages, sent regardless
