"""GOV.UK Notify's domain side: phone numbers in the directory, the templates file, and the
personalisation (the case reference, what is due, when and the link; nothing else)."""

from datetime import datetime
from pathlib import Path

import pytest

from domain.directory import AddressKind, Directory, DirectoryError
from domain.govuk_notify import PERSONALISATION_FIELDS, NotifyTemplateError, personalisation
from domain.notifications import Addressee, Notification, NotificationKind, event_notice
from domain.oversight import panel_notifications
from domain.roles import Role
from edge.config_files import load_directory, load_notify_templates
from tests.domain.builders import clock_step_notice

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "config" / "govuk-notify-templates.example.toml"
LINK = "https://cse.example.org/dashboard/cases/R-1"
TO = Addressee(referral_id="R-1", team="RAI-2", social_worker="sw-7", case_key="k1")


def breach() -> Notification:
    return clock_step_notice(
        notification_id="R-1~k1:strategy_discussion-2:breach",
        link_path="/dashboard/cases/R-1",
    )


@pytest.mark.parametrize(
    "number", ["07700 900123", "07700900123", "+447700900123", "+44 7700 900 123"]
)
def test_a_phone_number_is_an_sms_address(number: str) -> None:
    directory = Directory.model_validate({"roles": {"team_manager": [number, "tm@example.org"]}})
    kinds = {
        r.address: r.kind
        for r in directory.resolve(breach().model_copy(update={"roles": [Role.team_manager]}))
    }
    assert kinds == {number: AddressKind.sms, "tm@example.org": AddressKind.email}
    assert directory.uses(AddressKind.sms)


@pytest.mark.parametrize(
    "number", ["0770090", "07700  900123", "07700-900123", "+44770090012345678"]
)
def test_something_like_a_number_but_not_one_is_refused_naming_the_field(
    tmp_path: Path, number: str
) -> None:
    path = tmp_path / "directory.toml"
    path.write_text(f'[roles]\nmash = ["{number}"]\n', encoding="utf-8")
    with pytest.raises(DirectoryError, match=r"roles\.mash\.0.*phone number"):
        load_directory(path)


def test_the_example_templates_cover_every_kind_of_notification_and_message() -> None:
    templates = load_notify_templates(EXAMPLE, [AddressKind.email, AddressKind.sms])
    for kind in NotificationKind:
        email = templates.template_id(AddressKind.email, kind)
        sms = templates.template_id(AddressKind.sms, kind)
        assert email != sms
    every = {
        templates.template_id(m, k)
        for m in (AddressKind.email, AddressKind.sms)
        for k in NotificationKind
    }
    assert len(every) == 2 * len(NotificationKind)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "templates.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_table_missing_a_kind_is_refused_naming_it(tmp_path: Path) -> None:
    text = EXAMPLE.read_text().replace('allocation = "00000000-0000-4000-8000-000000000012"\n', "")
    with pytest.raises(NotifyTemplateError) as refused:
        load_notify_templates(write(tmp_path, text))
    assert str(refused.value).startswith(f"GOV.UK Notify templates file {tmp_path}")
    assert "sms: no template for allocation" in str(refused.value)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ('clock_step = "00000000-0000-4000-8000-000000000001"', 'clock_step = "not-a-uuid"'),
            "email.clock_step",
        ),
        (("[sms]", "[text]"), "text"),
        (
            (
                'clock_step = "00000000-0000-4000-8000-000000000011"',
                'clock_stepp = "00000000-0000-4000-8000-000000000011"',
            ),
            "sms.clock_stepp",
        ),
    ],
)
def test_a_malformed_templates_file_is_refused_naming_the_field(
    tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    text = EXAMPLE.read_text().replace(*change)
    with pytest.raises(NotifyTemplateError, match=rf"\b{named}\b"):
        load_notify_templates(write(tmp_path, text))


def test_a_table_the_directory_needs_must_be_there(tmp_path: Path) -> None:
    email_only = EXAMPLE.read_text().split("\n[sms]\n")[0]
    path = write(tmp_path, email_only)
    assert load_notify_templates(path, [AddressKind.email]).sms is None
    with pytest.raises(NotifyTemplateError, match=r"templates\.toml: no \[sms\] table"):
        load_notify_templates(path, [AddressKind.email, AddressKind.sms])
    with pytest.raises(NotifyTemplateError, match=r"not-there\.toml: No such file"):
        load_notify_templates(tmp_path / "not-there.toml")


def test_a_clock_step_says_the_case_what_is_overdue_when_and_where() -> None:
    assert personalisation(breach(), LINK) == {
        "case_reference": "R-1",
        "what": "strategy discussion overdue",
        "when": "Thursday 03 September 2026, 23:59 (Europe/London)",
        "link": LINK,
    }


@pytest.mark.parametrize(
    ("kind", "what"),
    [
        (NotificationKind.allocation, "case allocated"),
        (NotificationKind.missing_episode, "missing episode recorded"),
        (
            NotificationKind.consultation,
            "high professional concern with a low score: consultation needed",
        ),
        (NotificationKind.delivery_failed, "a notification could not be delivered (R-1~k1:x)"),
    ],
)
def test_an_events_notice_says_what_happened_with_no_deadline(
    kind: NotificationKind, what: str
) -> None:
    notice = event_notice(TO, kind, "4", [Role.social_worker], what)
    assert personalisation(notice, LINK) == {
        "case_reference": "R-1",
        "what": what,
        "when": "",
        "link": LINK,
    }


def test_the_panels_documents_name_the_run_and_the_document() -> None:
    links = {"agenda.html": "/reports/a", "oversight.html": "/reports/o"}
    agenda, report = panel_notifications("MASE", "run-1", datetime(2026, 9, 1).date(), links)
    assert personalisation(agenda, "L") == {
        "case_reference": "MASE-2026-09-01",
        "what": "panel agenda",
        "when": "",
        "link": "L",
    }
    assert personalisation(report, "L")["what"] == "oversight report"
    assert tuple(personalisation(report, "L")) == PERSONALISATION_FIELDS
