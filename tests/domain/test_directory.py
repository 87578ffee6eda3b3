"""The directory: roles to addresses, per team, the allocated social worker by user id."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from domain.directory import (
    ALWAYS_NEEDED,
    AddressKind,
    Directory,
    DirectoryError,
    NoAddress,
    roles_needed,
)
from domain.notifications import Notification, NotificationKind
from domain.policy import ClockName, LadderStep, Policy, PolicyBook, StepName
from domain.roles import Role
from edge.config_files import load_directory

REPO = Path(__file__).resolve().parents[2]
BOOK = PolicyBook(versions=[Policy()])

DIRECTORY = """
[roles]
social_worker = ["cse-duty@example.org"]
team_manager = ["managers@example.org"]
specialist_safeguarding_lead = ["sspl@example.org"]
head_of_service = ["hos@example.org"]
strategic_lead = ["ad@example.org", "https://hooks.example.org/cse/strategic"]
mash = ["mash@example.org"]
police_spoc = ["police-cse-spoc@example.org"]
data_analyst = ["analyst@example.org"]
mase_chair = ["mase-chair@example.org"]

[teams."RAI-2"]
social_worker = ["rai2-duty@example.org"]
team_manager = ["rai2-manager@example.org", "https://hooks.example.org/cse/rai2"]

[people]
"sw-7" = "sw7@example.org"
"sw-12" = ["sw12@example.org", "sw12-cover@example.org"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "directory.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def directory(tmp_path: Path) -> Directory:
    return load_directory(write(tmp_path, DIRECTORY), roles_needed(BOOK))


def step_notice(
    step: LadderStep, team: str, social_worker: str | None, complex_: bool
) -> Notification:
    roles = step.roles + (step.complex_case_roles if complex_ else [])
    return Notification(
        notification_id=f"R-1:referral_decision-1:{step.step.value}",
        kind=NotificationKind.clock_step,
        referral_id="R-1",
        team=team,
        roles=roles,
        social_worker=social_worker,
        clock=ClockName.referral_decision,
        step=step.step,
        due_at=datetime(2026, 9, 3, 22, 59, 59, tzinfo=UTC),
        subject="Case R-1: referral decision",
        link_path="/cases/R-1",
    )


def addresses(directory: Directory, notice: Notification) -> set[str]:
    return {r.address for r in directory.resolve(notice)}


LADDER = {s.step: s for s in Policy().ladder}
EXPECTED = [
    # step, team, allocated social worker, complex, addresses
    (StepName.reminder, "RAI-2", "sw-7", False, {"sw7@example.org"}),
    (StepName.reminder, "RAI-2", None, False, {"rai2-duty@example.org"}),
    (StepName.reminder, "RAI-2", "sw-99", False, {"rai2-duty@example.org"}),
    (StepName.reminder, "CIN-1", None, False, {"cse-duty@example.org"}),
    (
        StepName.reminder,
        "CIN-1",
        "sw-12",
        False,
        {"sw12@example.org", "sw12-cover@example.org"},
    ),
    (
        StepName.breach,
        "RAI-2",
        "sw-7",
        False,
        {"sw7@example.org", "rai2-manager@example.org", "https://hooks.example.org/cse/rai2"},
    ),
    (StepName.breach, "CIN-1", None, False, {"cse-duty@example.org", "managers@example.org"}),
    (StepName.escalation, "RAI-2", "sw-7", False, {"hos@example.org"}),
    (StepName.escalation, "RAI-2", "sw-7", True, {"hos@example.org", "sspl@example.org"}),
    (
        StepName.strategic_escalation,
        "CIN-1",
        "sw-7",
        True,
        {"ad@example.org", "https://hooks.example.org/cse/strategic"},
    ),
]


@pytest.mark.parametrize(("step", "team", "worker", "complex_", "expected"), EXPECTED)
def test_each_ladder_step_resolves_to_exactly_its_roles_addresses(
    directory: Directory,
    step: StepName,
    team: str,
    worker: str | None,
    complex_: bool,
    expected: set[str],
) -> None:
    notice = step_notice(LADDER[step], team, worker, complex_)
    assert addresses(directory, notice) == expected


def test_an_address_serving_two_roles_is_sent_once_naming_both(tmp_path: Path) -> None:
    text = DIRECTORY.replace(
        'head_of_service = ["hos@example.org"]', 'head_of_service = ["sspl@example.org"]'
    )
    directory = load_directory(write(tmp_path, text))
    notice = step_notice(LADDER[StepName.escalation], "CIN-1", None, complex_=True)
    [recipient] = directory.resolve(notice)
    assert recipient.address == "sspl@example.org"
    assert recipient.roles == (Role.head_of_service, Role.specialist_safeguarding_lead)
    assert recipient.kind == AddressKind.email


def test_webhooks_and_emails_are_told_apart(directory: Directory) -> None:
    notice = step_notice(LADDER[StepName.breach], "RAI-2", "sw-7", complex_=False)
    kinds = {r.address: r.kind for r in directory.resolve(notice)}
    assert kinds["https://hooks.example.org/cse/rai2"] == AddressKind.webhook
    assert kinds["sw7@example.org"] == AddressKind.email
    assert directory.uses(AddressKind.webhook)
    assert directory.uses(AddressKind.email)


def test_a_role_with_no_address_anywhere_is_named_at_resolution(directory: Directory) -> None:
    notice = step_notice(LADDER[StepName.breach], "RAI-2", None, complex_=False)
    notice = notice.model_copy(update={"roles": [Role.voluntary_sector]})
    with pytest.raises(NoAddress, match="no address for role voluntary_sector"):
        directory.resolve(notice)


def test_the_example_directory_covers_every_role_the_service_needs() -> None:
    example = load_directory(REPO / "config" / "directory.example.toml", roles_needed(BOOK))
    assert set(example.roles) == set(Role)
    every = [a for addrs in example.roles.values() for a in addrs]
    every += [a for team in example.teams.values() for addrs in team.values() for a in addrs]
    every += [a for addrs in example.people.values() for a in addrs]
    hosts = {a.split("@")[-1] if "@" in a else a.split("/")[2] for a in every}
    assert all(h == "example.org" or h.endswith(".example.org") for h in hosts), hosts


def test_needed_roles_come_from_every_policy_version_and_the_mase_panel() -> None:
    later = Policy(
        version="later",
        effective_from=datetime(2027, 1, 1).date(),
        ladder=[
            LadderStep(
                step=StepName.breach,
                working_days_from_due=0,
                roles=[Role.police_spoc],
                marks_breach=True,
            ),
            LadderStep(
                step=StepName.escalation,
                working_days_from_due=3,
                roles=[Role.head_of_service],
                complex_case_roles=[Role.named_nurse],
            ),
        ],
        clock_owners={ClockName.consultation: [Role.education_safeguarding_lead]},
    )
    needed = roles_needed(PolicyBook(versions=[Policy(), later]))
    assert needed >= ALWAYS_NEEDED
    assert {Role.police_spoc, Role.named_nurse, Role.education_safeguarding_lead} <= needed
    assert {Role.social_worker, Role.strategic_lead} <= needed
    assert Role.voluntary_sector not in needed


def test_a_directory_missing_a_needed_role_is_refused_naming_it(tmp_path: Path) -> None:
    text = DIRECTORY.replace(
        'strategic_lead = ["ad@example.org", "https://hooks.example.org/cse/strategic"]\n', ""
    )
    text = text.replace('mase_chair = ["mase-chair@example.org"]\n', "")
    with pytest.raises(DirectoryError) as refused:
        load_directory(write(tmp_path, text), roles_needed(BOOK))
    assert str(refused.value).endswith("roles: no address for role(s) strategic_lead, mase_chair")


def test_a_team_entry_does_not_stand_in_for_a_missing_global_role(tmp_path: Path) -> None:
    text = DIRECTORY.replace('team_manager = ["managers@example.org"]\n', "")
    with pytest.raises(DirectoryError, match=r"no address for role\(s\) team_manager"):
        load_directory(write(tmp_path, text), roles_needed(BOOK))


@pytest.mark.parametrize(
    ("line", "named"),
    [
        ('mash = ["mash-at-example.org"]', "roles.mash.0"),
        ('mash = ["http://hooks.example.org/cse"]', "roles.mash.0"),
        ('mash = ["https://user:pw@hooks.example.org/cse"]', "roles.mash.0"),
        ('mash = ["https://"]', "roles.mash.0"),
        ("mash = []", "roles.mash"),
        ('mashh = ["mash@example.org"]', "roles.mashh"),
    ],
)
def test_a_malformed_entry_is_refused_naming_the_field(
    tmp_path: Path, line: str, named: str
) -> None:
    text = DIRECTORY.replace('mash = ["mash@example.org"]', line)
    with pytest.raises(DirectoryError) as refused:
        load_directory(write(tmp_path, text), roles_needed(BOOK))
    message = str(refused.value)
    assert message.startswith(f"directory file {tmp_path / 'directory.toml'}: ")
    assert f"{named}" in message


def test_malformed_people_and_team_entries_are_named(tmp_path: Path) -> None:
    text = DIRECTORY.replace('"sw-7" = "sw7@example.org"', '"sw-7" = "sw7"')
    text = text.replace(
        'social_worker = ["rai2-duty@example.org"]', 'social_worker = ["rai2 duty@example.org"]'
    )
    with pytest.raises(DirectoryError) as refused:
        load_directory(write(tmp_path, text))
    assert "people.sw-7.0" in str(refused.value)
    assert "teams.RAI-2.social_worker.0" in str(refused.value)


def test_http_is_accepted_only_to_a_loopback_receiver(tmp_path: Path) -> None:
    text = DIRECTORY.replace('mash = ["mash@example.org"]', 'mash = ["http://127.0.0.1:8099/hook"]')
    directory = load_directory(write(tmp_path, text))
    assert directory.roles[Role.mash] == ["http://127.0.0.1:8099/hook"]


def test_unknown_sections_a_missing_file_and_bad_toml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(DirectoryError, match="extra_section"):
        load_directory(write(tmp_path, DIRECTORY + "\n[extra_section]\nx = 1\n"))
    with pytest.raises(DirectoryError, match="No such file or directory"):
        load_directory(tmp_path / "nowhere.toml")
    with pytest.raises(DirectoryError, match="not valid TOML"):
        load_directory(write(tmp_path, "[roles\n"))
