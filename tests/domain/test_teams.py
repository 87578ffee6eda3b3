"""Teams are known (issue 19, item 5): a case's team is one of the configured teams, exactly;
a near miss is refused naming the known teams and what differs; none configured, any team."""

import pytest

from domain.teams import team_problem

KNOWN = ("TEAM-A", "TEAM-B")


@pytest.mark.parametrize("team", KNOWN)
def test_a_known_team_is_accepted(team: str) -> None:
    assert team_problem(team, KNOWN) is None


@pytest.mark.parametrize("team", ["TEAM-Z", "team-a", "TEAM\u2011A", "TEAM-A\u200b", "TEAM"])
def test_anything_else_is_refused_listing_the_known_teams(team: str) -> None:
    problem = team_problem(team, KNOWN)

    assert problem is not None
    assert problem.startswith(f"{team!r} is not a team of this service: give one of TEAM-A, TEAM-B")


def test_a_look_alike_is_told_which_character_is_wrong() -> None:
    problem = team_problem("TEAM\u2011A", KNOWN)

    assert problem is not None
    assert "U+2011 NON-BREAKING HYPHEN" in problem


def test_another_case_is_told_teams_are_matched_exactly() -> None:
    assert "did you mean TEAM-A?" in (team_problem("team-a", KNOWN) or "")
    assert "did you mean" not in (team_problem("TEAM-Z", KNOWN) or "")


@pytest.mark.parametrize("team", ["TEAM-Z", "team-a", "TEAM\u2011A"])
def test_with_no_teams_configured_any_team_is_accepted(team: str) -> None:
    assert team_problem(team, ()) is None
