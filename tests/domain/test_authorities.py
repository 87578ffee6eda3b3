"""Across borough lines (docs/rules.md, Who is told): the authorities a referral names, checked
against the directory, and told of the case when it is referred to MASE, when a strategy
discussion is held and when it closes; never with the child's details."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from domain.authorities import (
    PLACED_IN,
    PLACED_OUT,
    authority_problems,
    named_authorities,
    other_authorities,
    placement,
)
from domain.case import Case
from domain.directory import Directory, NoAddress
from domain.notifications import Notification, NotificationKind
from domain.oversight import CaseFacts, oversight, select_agenda
from domain.panel_documents import agenda_csv, agenda_html, report_html
from domain.policy import Policy
from domain.roles import Role
from domain.vocabulary import Stage
from edge.config_files import load_directory
from tests.domain.builders import (
    CHILD_REF,
    SUMMARY,
    T,
    case_at,
    close,
    journey_to,
    make_referral,
    open_case,
    record,
    refer_to_mase,
    strategy_discussion,
)

OURS = "E99000099"
HOST = "E99000001"  # invented codes: no area has an E99 code
PLACING = "E99000002"

DIRECTORY = Directory.model_validate(
    {
        "roles": {"team_manager": ["cse-managers@example.org"]},
        "authority": OURS,
        "authorities": {
            HOST: {"name": "Example Borough One", "contact": "cse-contact@la-one.example.org"},
            PLACING: {
                "name": "Example Borough Two",
                "contact": ["cse@la-two.example.org", "https://hooks.la-two.example.org/cse"],
            },
        },
    }
)


def placed_here(stage: Stage, score: int = 2) -> Case:
    """A looked-after child placed in our borough by another: the host is us."""
    case = case_at(
        stage, score=score, looked_after=True, placing_authority=PLACING, host_authority=OURS
    )
    case.other_authorities = other_authorities(
        named_authorities(PLACING, OURS), DIRECTORY.authority
    )
    return case


def told(notices: list[Notification]) -> list[Notification]:
    return [n for n in notices if n.kind == NotificationKind.authority_informed]


def assert_no_child_data(notice: Notification) -> None:
    dumped = notice.model_dump_json()
    for detail in (CHILD_REF, SUMMARY, "looked_after", "running away"):
        assert detail not in dumped


# ------------------------------------------------------------------------- at intake


def test_known_codes_pass_and_an_unknown_one_is_refused_naming_the_field_and_the_list() -> None:
    known = list(DIRECTORY.known_authorities)
    assert known == [HOST, PLACING, OURS]
    assert authority_problems(named_authorities(PLACING, OURS), known) == []
    ((field, problem),) = authority_problems(named_authorities(None, "E99000777"), known)
    assert field == "host_authority"
    assert "'E99000777' is not a local authority" in problem
    assert f"{HOST}, {PLACING}, {OURS}" in problem


def test_with_no_authorities_configured_any_code_is_accepted() -> None:
    assert authority_problems(named_authorities("ANY-1", "ANY-2"), []) == []


def test_our_own_code_is_never_told_and_without_it_every_code_is() -> None:
    assert other_authorities(named_authorities(PLACING, OURS), OURS) == [PLACING]
    assert other_authorities(named_authorities(OURS, HOST), OURS) == [HOST]
    assert other_authorities(named_authorities(HOST, HOST), None) == [HOST]
    assert other_authorities(named_authorities(None, None), OURS) == []


def test_the_status_shows_looked_after_and_the_two_authorities() -> None:
    status = placed_here(Stage.s47_enquiry).status()
    assert (status.looked_after, status.placing_authority, status.host_authority) == (
        True,
        PLACING,
        OURS,
    )


# ----------------------------------------------------------------------------- told


def test_referral_to_mase_tells_the_other_authority_and_only_it() -> None:
    case = placed_here(Stage.s47_enquiry)
    (notice,) = told(record(case, refer_to_mase()))
    assert notice.authorities == [PLACING]
    assert notice.roles == []
    assert notice.subject == f"Case {case.referral_id}: referred to MASE"
    assert notice.link_path == f"/dashboard/cases/{case.referral_id}"
    assert_no_child_data(notice)
    recipients = DIRECTORY.resolve(notice)
    assert [r.address for r in recipients] == [
        "cse@la-two.example.org",
        "https://hooks.la-two.example.org/cse",
    ]
    assert {r.authority for r in recipients} == {PLACING}


def test_a_strategy_discussion_held_tells_the_other_authority() -> None:
    case = placed_here(Stage.strategy_discussion)
    (notice,) = told(record(case, strategy_discussion("s47")))
    assert notice.subject.endswith("strategy discussion held")
    assert_no_child_data(notice)


def test_a_discussion_that_closes_the_case_tells_of_both_with_two_ids() -> None:
    case = placed_here(Stage.strategy_discussion, score=0)
    notices = told(record(case, strategy_discussion("nfa")))
    assert case.is_closed
    assert [n.subject.split(": ")[1] for n in notices] == [
        "strategy discussion held",
        "case closed",
    ]
    assert len({n.notification_id for n in notices}) == 2


def test_closing_tells_the_other_authority_once() -> None:
    case = placed_here(Stage.s47_enquiry)
    (notice,) = told(record(case, close(at=T.strategy_held + timedelta(hours=1))))
    assert notice.subject.endswith("case closed")


def test_a_case_naming_no_other_authority_tells_none() -> None:
    case = case_at(Stage.s47_enquiry)  # the opening answer found no other authority
    notices = record(case, refer_to_mase(), close(at=T.strategy_held + timedelta(hours=1)))
    assert told(notices) == []


def test_other_events_and_the_referral_itself_tell_no_authority() -> None:
    case = open_case(looked_after=True, host_authority=HOST)
    case.other_authorities = [HOST]
    events = journey_to(Stage.strategy_discussion)
    assert told(record(case, *events)) == []


def test_a_case_recorded_before_partners_were_told_tells_no_authority_when_refused() -> None:
    case = placed_here(Stage.s47_enquiry)
    case.partners_told = None
    notices = case.apply(refer_to_mase(), T.strategy_held, lambda: False)
    assert told(notices) == []


def test_an_authority_missing_from_the_directory_has_no_address() -> None:
    case, _ = Case.open(make_referral(host_authority="E99000555"), Policy(), T.received)
    notice = case.notice(NotificationKind.authority_informed, [], "referred to MASE")
    notice = notice.model_copy(update={"authorities": ["E99000555"]})
    with pytest.raises(NoAddress, match="no address for authority E99000555"):
        DIRECTORY.resolve(notice)


def test_a_notice_to_roles_and_an_authority_resolves_both_once() -> None:
    case = placed_here(Stage.s47_enquiry)
    notice = case.notice(NotificationKind.authority_informed, [Role.team_manager], "x")
    notice = notice.model_copy(update={"authorities": [HOST, OURS]})
    addresses = [r.address for r in DIRECTORY.resolve(notice)]
    assert addresses == ["cse-managers@example.org", "cse-contact@la-one.example.org"]


# ------------------------------------------------------------- the panel's documents


def facts(case: Case) -> CaseFacts:
    return CaseFacts.from_status(case.status())


def placed_out() -> Case:
    """A child this authority looks after, placed in another borough: it hosts."""
    case = case_at(
        Stage.s47_enquiry, looked_after=True, placing_authority=OURS, host_authority=HOST
    )
    case.other_authorities = [HOST]
    return case


def test_placements_are_read_from_which_authorities_are_not_ours() -> None:
    assert placement(PLACING, OURS, [PLACING]) == PLACED_IN
    assert placement(PLACING, None, [PLACING]) == PLACED_IN  # a child here, placed by another
    assert placement(OURS, HOST, [HOST]) == PLACED_OUT
    assert placement(None, HOST, [HOST]) == PLACED_OUT
    assert placement(PLACING, HOST, [PLACING, HOST]) == "across borough lines"
    assert placement(None, None, []) == ""


def test_the_agenda_flags_looked_after_and_cross_borough_cases_without_naming_anyone() -> None:
    here, there, neither = placed_here(Stage.s47_enquiry), placed_out(), case_at(Stage.s47_enquiry)
    for case, rid in ((here, "R-IN"), (there, "R-OUT"), (neither, "R-NONE")):
        case.referral = case.referral.model_copy(update={"referral_id": rid})
        record(case, refer_to_mase())
    agenda = select_agenda(facts(c) for c in (here, there, neither))
    flags = {i.referral_id: (i.looked_after, i.placement) for i in agenda.referred}
    assert flags == {"R-IN": (True, PLACED_IN), "R-OUT": (True, PLACED_OUT), "R-NONE": (False, "")}
    html = agenda_html("MASE", T.strategy_held.date(), agenda)
    assert "Placed across borough lines" in html
    assert PLACED_IN in html
    assert PLACED_OUT in html
    rows = list(csv.DictReader(io.StringIO(agenda_csv(agenda))))
    assert {r["referral_id"]: r["placed_across_borough_lines"] for r in rows}["R-IN"] == PLACED_IN
    for text in (html, agenda_csv(agenda)):
        for never in (OURS, HOST, PLACING, CHILD_REF, SUMMARY):
            assert never not in text


def test_the_oversight_report_counts_children_placed_in_and_out_of_the_borough() -> None:
    cases = [placed_here(Stage.s47_enquiry), placed_out(), placed_out(), case_at(Stage.review)]
    for number, case in enumerate(cases):
        case.referral = case.referral.model_copy(update={"referral_id": f"R-{number}"})
    report = oversight([facts(c) for c in cases], T.reviewed)
    assert (report.open_looked_after, report.open_placed_in, report.open_placed_out) == (3, 1, 2)
    html = report_html("MASE", report)
    assert '<td>Placed in the borough by another authority</td><td class="n">1</td>' in html
    assert HOST not in html


def test_the_example_directory_lists_example_authorities_only() -> None:
    example = load_directory(Path(__file__).parents[2] / "config" / "directory.example.toml")
    assert list(example.known_authorities) == [HOST, PLACING, OURS]
    contacts = [a for authority in example.authorities.values() for a in authority.contact]
    assert all((urlsplit(a).hostname or a.split("@")[1]).endswith("example.org") for a in contacts)
