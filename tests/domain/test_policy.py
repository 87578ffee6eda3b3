"""The local authority's policy file (domain/policy.py): defaults, validation, versions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from domain.policy import ClockName, Deadline, Policy, PolicyBook, PolicyError, StepName
from domain.roles import Role
from edge.config_files import load_policy, load_policy_book
from tests.domain.builders import end_of, london, only_clock, open_case

POLICIES = Path(__file__).resolve().parents[2] / "policies"
SHIPPED = POLICIES / "directive-2018.toml"


def shipped_text() -> str:
    return SHIPPED.read_text(encoding="utf-8")


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def changed(old: str, new: str) -> str:
    """The shipped file with one line changed."""
    text = shipped_text()
    assert text.count(old) == 1, old
    return text.replace(old, new)


# =========================================================================== the shipped file


def test_the_shipped_directive_file_is_exactly_the_defaults() -> None:
    assert load_policy(SHIPPED) == Policy()


def test_the_shipped_folder_holds_one_version_the_defaults() -> None:
    book = load_policy_book(POLICIES)
    assert book.versions == [Policy()]


def test_no_policy_folder_means_the_directive_defaults() -> None:
    assert load_policy_book(None).versions == [Policy()]


def test_the_defaults_are_the_directive_and_national_figures() -> None:
    policy = Policy()
    wd, months = "working_days", "calendar_months"
    assert policy.deadlines == {
        ClockName.referral_decision: Deadline(amount=1, unit=wd),
        ClockName.strategy_discussion: Deadline(amount=3, unit=wd),
        ClockName.assessment: Deadline(amount=45, unit=wd),
        ClockName.initial_cp_conference: Deadline(amount=15, unit=wd),
        ClockName.safety_plan: Deadline(amount=10, unit=wd),
        ClockName.risk_review: Deadline(amount=3, unit=months),
        ClockName.further_strategy_meeting: Deadline(amount=3, unit=wd),
        ClockName.cp_review_conference: Deadline(amount=3, unit=months),
        ClockName.return_home_interview: Deadline(amount=72, unit="hours"),
        ClockName.consultation: Deadline(amount=2, unit=wd),
        ClockName.mase_action: Deadline(amount=20, unit=wd),  # used only if a panel gives no date
        ClockName.transition_planning: Deadline(amount=3, unit=months),  # docs/rules.md, Clocks
    }
    assert policy.transition_planning_from_months == 17 * 12 + 6
    assert set(policy.deadlines) == set(ClockName)
    assert policy.clock_owners == {
        ClockName.consultation: [Role.team_manager, Role.specialist_safeguarding_lead]
    }
    assert policy.missing_episodes_for_strategy == 3
    assert policy.missing_episodes_window_days == 30
    assert policy.continue_as_new_after_events == 10_000
    assert policy.cp_review_interval == Deadline(amount=6, unit=months)
    assert policy.missing_episode_review == Deadline(amount=5, unit=wd)
    assert [
        (s.step, s.working_days_from_due, s.roles, s.complex_case_roles, s.marks_breach)
        for s in policy.ladder
    ] == [
        (StepName.reminder, -1, [Role.social_worker], [], False),
        (StepName.breach, 0, [Role.social_worker, Role.team_manager], [], True),
        (
            StepName.escalation,
            2,
            [Role.head_of_service],
            [Role.specialist_safeguarding_lead],
            False,
        ),
        (StepName.strategic_escalation, 5, [Role.strategic_lead], [], False),
    ]


def test_a_file_may_leave_every_field_to_its_default(tmp_path: Path) -> None:
    path = write(tmp_path, "short.toml", 'version = "short"\neffective_from = 2026-04-01\n')
    assert load_policy(path) == Policy(version="short", effective_from=date(2026, 4, 1))


# =========================================================================== a bad file


BAD_FILES = {
    "unknown field": (
        changed("clock_skew_minutes = 5", "clock_skew_minutes = 5\ncolour = 'red'"),
        "colour",
    ),
    "negative amount": (
        changed(
            'referral_decision = { amount = 1, unit = "working_days" }',
            'referral_decision = { amount = -1, unit = "working_days" }',
        ),
        "deadlines.referral_decision.amount",
    ),
    "unknown unit": (
        changed(
            'safety_plan = { amount = 10, unit = "working_days" }',
            'safety_plan = { amount = 10, unit = "fortnights" }',
        ),
        "deadlines.safety_plan.unit",
    ),
    "unknown clock": (
        changed(
            "[deadlines]\n", '[deadlines]\ntea_break = { amount = 1, unit = "working_days" }\n'
        ),
        "deadlines.tea_break",
    ),
    "missing breach step": (
        changed("marks_breach = true", "marks_breach = false"),
        "ladder: exactly one step must have marks_breach = true",
    ),
    "ladder out of order": (
        changed("working_days_from_due = 2", "working_days_from_due = -2"),
        "ladder: steps must be in strictly increasing working_days_from_due",
    ),
    "unknown role": (
        changed('roles = ["strategic_lead"]', 'roles = ["caretaker"]'),
        "ladder.3.roles.0",
    ),
    "an owned clock without owners": (
        changed(
            "clock_skew_minutes = 5", "clock_skew_minutes = 5\nclock_owners = { consultation = [] }"
        ),
        "clock_owners.consultation",
    ),
    "an unknown clock owner": (
        changed(
            "clock_skew_minutes = 5",
            'clock_skew_minutes = 5\nclock_owners = { consultation = ["caretaker"] }',
        ),
        "clock_owners.consultation.0",
    ),
    "owners for an unknown clock": (
        changed(
            "clock_skew_minutes = 5",
            'clock_skew_minutes = 5\nclock_owners = { tea_break = ["team_manager"] }',
        ),
        "clock_owners.tea_break",
    ),
    "no episodes needed for a strategy discussion": (
        changed(
            "clock_skew_minutes = 5", "clock_skew_minutes = 5\nmissing_episodes_for_strategy = 0"
        ),
        "missing_episodes_for_strategy",
    ),
    "a window of no days": (
        changed(
            "clock_skew_minutes = 5", "clock_skew_minutes = 5\nmissing_episodes_window_days = 0"
        ),
        "missing_episodes_window_days",
    ),
    "continue as new too soon": (
        changed(
            "clock_skew_minutes = 5", "clock_skew_minutes = 5\ncontinue_as_new_after_events = 5"
        ),
        "continue_as_new_after_events",
    ),
    "negative clock skew": (
        changed("clock_skew_minutes = 5", "clock_skew_minutes = -5"),
        "clock_skew_minutes",
    ),
    "bad date": (
        changed("effective_from = 2018-02-01", 'effective_from = "soon"'),
        "effective_from",
    ),
    "bad TOML": (
        changed('version = "directive-2018"', 'version = "directive-2018'),
        "not valid TOML",
    ),
}


@pytest.mark.parametrize(("text", "names"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_policy_file_is_refused_naming_the_field(
    tmp_path: Path, text: str, names: str
) -> None:
    path = write(tmp_path, "bad.toml", text)
    with pytest.raises(PolicyError) as refusal:
        load_policy(path)
    assert names in str(refusal.value)
    assert str(path) in str(refusal.value)


@pytest.mark.parametrize(("text", "names"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_in_the_policy_folder_stops_the_whole_book(
    tmp_path: Path, text: str, names: str
) -> None:
    write(tmp_path, "directive-2018.toml", shipped_text())
    write(tmp_path, "zz-bad.toml", text)
    with pytest.raises(PolicyError, match=r"zz-bad\.toml") as refusal:
        load_policy_book(tmp_path)
    assert names in str(refusal.value)


def test_a_clock_the_file_does_not_list_keeps_its_default(tmp_path: Path) -> None:
    text = changed('return_home_interview = { amount = 72, unit = "hours" }', "")
    assert "return_home_interview" not in text
    policy = load_policy(write(tmp_path, "short.toml", text))
    assert policy.deadlines[ClockName.return_home_interview] == Deadline(amount=72, unit="hours")
    assert policy == Policy()


def test_the_shipped_file_does_not_list_the_consultation_clock_and_gets_its_default() -> None:
    assert "consultation" not in shipped_text()
    assert load_policy(SHIPPED).deadlines[ClockName.consultation] == Deadline(
        amount=2, unit="working_days"
    )


def test_a_file_may_list_only_the_clocks_it_changes(tmp_path: Path) -> None:
    text = (
        'version = "quick"\neffective_from = 2026-04-01\n\n[deadlines]\n'
        'strategy_discussion = { amount = 2, unit = "working_days" }\n'
        'consultation = { amount = 1, unit = "working_days" }\n'
    )
    policy = load_policy(write(tmp_path, "quick.toml", text))
    assert policy.deadlines == Policy().deadlines | {
        ClockName.strategy_discussion: Deadline(amount=2, unit="working_days"),
        ClockName.consultation: Deadline(amount=1, unit="working_days"),
    }


def test_a_folder_file_that_leaves_a_clock_out_loads_with_its_default(tmp_path: Path) -> None:
    write(tmp_path, "directive-2018.toml", shipped_text())
    write(
        tmp_path,
        "zz-later.toml",
        changed('return_home_interview = { amount = 72, unit = "hours" }', "")
        .replace('version = "directive-2018"', 'version = "later"')
        .replace("effective_from = 2018-02-01", "effective_from = 2026-04-01"),
    )
    book = load_policy_book(tmp_path)
    later = book.in_force_on(london(2026, 4, 1, 9))
    assert later.version == "later"
    assert later.deadlines == Policy().deadlines


def test_a_file_sets_the_new_fields(tmp_path: Path) -> None:
    text = changed(
        "clock_skew_minutes = 5",
        "clock_skew_minutes = 5\n"
        "missing_episodes_for_strategy = 2\n"
        "missing_episodes_window_days = 14\n"
        "continue_as_new_after_events = 500\n"
        'clock_owners = { consultation = ["team_manager"], '
        'return_home_interview = ["named_nurse", "team_manager"] }',
    )
    policy = load_policy(write(tmp_path, "owners.toml", text))
    assert policy.missing_episodes_for_strategy == 2
    assert policy.missing_episodes_window_days == 14
    assert policy.continue_as_new_after_events == 500
    assert policy.clock_owners == {
        ClockName.consultation: [Role.team_manager],
        ClockName.return_home_interview: [Role.named_nurse, Role.team_manager],
    }


def test_a_missing_policy_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"nowhere\.toml"):
        load_policy(tmp_path / "nowhere.toml")


def test_a_policy_folder_that_is_not_there_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="not a folder"):
        load_policy_book(tmp_path / "missing")


def test_an_empty_policy_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match=r"no \*\.toml policy files"):
        load_policy_book(tmp_path)


def test_two_files_with_the_same_version_name_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'version = "v1"\neffective_from = 2018-02-01\n')
    write(tmp_path, "b.toml", 'version = "v1"\neffective_from = 2026-04-01\n')
    with pytest.raises(PolicyError, match=r"a\.toml and \S*b\.toml share the version name v1"):
        load_policy_book(tmp_path)


def test_two_versions_taking_effect_the_same_day_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'version = "v1"\neffective_from = 2026-04-01\n')
    write(tmp_path, "b.toml", 'version = "v2"\neffective_from = 2026-04-01\n')
    with pytest.raises(PolicyError, match=r"a\.toml and \S*b\.toml share the effective_from"):
        load_policy_book(tmp_path)


# =========================================================================== versions


BOROUGH_2026 = """
version = "borough-2026"
effective_from = 2026-04-01

[deadlines]
referral_decision = { amount = 1, unit = "working_days" }
strategy_discussion = { amount = 2, unit = "working_days" }
assessment = { amount = 45, unit = "working_days" }
initial_cp_conference = { amount = 15, unit = "working_days" }
safety_plan = { amount = 10, unit = "working_days" }
risk_review = { amount = 2, unit = "calendar_months" }
further_strategy_meeting = { amount = 3, unit = "working_days" }
cp_review_conference = { amount = 3, unit = "calendar_months" }
return_home_interview = { amount = 72, unit = "hours" }
"""


@pytest.fixture
def two_versions(tmp_path: Path) -> PolicyBook:
    write(tmp_path, "directive-2018.toml", shipped_text())
    write(tmp_path, "borough-2026.toml", BOROUGH_2026)
    return load_policy_book(tmp_path)


@pytest.mark.parametrize(
    ("received_at", "version"),
    [
        (london(2026, 3, 31, 17), "directive-2018"),
        (london(2026, 4, 1, 0, 0), "borough-2026"),
        (london(2026, 8, 28, 16, 30), "borough-2026"),
        (london(2019, 6, 3, 9), "directive-2018"),
        (london(2017, 1, 9, 9), "directive-2018"),  # before any version: the earliest
    ],
)
def test_a_referral_takes_the_version_in_force_on_the_day_it_was_received(
    two_versions: PolicyBook, received_at: datetime, version: str
) -> None:
    assert two_versions.in_force_on(received_at).version == version


def test_a_case_keeps_the_version_it_started_with(two_versions: PolicyBook) -> None:
    received = london(2026, 8, 28, 16, 30)
    policy = two_versions.in_force_on(received)
    case = open_case(policy=policy, received_at=received, significant_harm_suspected=True)
    assert case.status().policy_version == "borough-2026"
    assert only_clock(case, ClockName.strategy_discussion).due_at == end_of(2026, 9, 2)


def test_the_received_day_is_the_london_day_whatever_the_offset(two_versions: PolicyBook) -> None:
    received = datetime(2026, 3, 31, 23, 30, tzinfo=UTC)  # Wed 1 Apr 00:30 BST
    assert two_versions.in_force_on(received).version == "borough-2026"
    just_before = datetime(2026, 3, 31, 22, 59, 59, tzinfo=UTC)  # Tue 31 Mar 23:59:59 BST
    assert two_versions.in_force_on(just_before).version == "directive-2018"
    far_east = datetime(2026, 4, 1, 6, 30, tzinfo=timezone(timedelta(hours=9)))
    assert two_versions.in_force_on(far_east).version == "directive-2018"  # 22:30 BST, 31 Mar


def test_a_version_that_does_not_list_the_consultation_clock_gives_it_the_default(
    two_versions: PolicyBook,
) -> None:
    assert "consultation" not in BOROUGH_2026
    borough = two_versions.in_force_on(london(2026, 8, 28, 16, 30))
    assert borough.deadlines[ClockName.consultation] == Deadline(amount=2, unit="working_days")
