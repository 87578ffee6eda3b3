"""The teams a deployment works in (CSE_TEAMS; docs/settings.md): a case's `team` must be
one of them, exactly, or the case would sit on no team's caseload, seen only by a head of
service. A typo (`TEAM-Z`), another case (`team-a`) and a look-alike (`TEAM-A` spelt with a
non-breaking hyphen, U+2011) are all refused. With no teams configured (local runs, tests, outside
clients' test rigs) any team is accepted.

Every place a case starts asks `team_problem`: the API's intake, `starter.py` and the
dashboard through edge/intake.py, and the workflow's own start check (so a client of its own
is refused too), each turning the problem into its own refusal naming the field `team`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

TEAM_FIELD = "team"


def team_problem(team: str, known: Sequence[str]) -> str | None:
    """Why `team` is not one of the `known` teams; None when it is, or none are known."""
    if not known or team in known:
        return None
    return f"{team!r} is not a team of this service: give one of {', '.join(known)}" + (
        _look_alike_hint(team, known)
    )


def _look_alike_hint(team: str, known: Sequence[str]) -> str:
    """Say what makes a near miss differ: its case, or characters that only look right."""
    unusual = [c for c in team if not c.isascii() or not c.isprintable()]
    if unusual:
        names = ", ".join(f"U+{ord(c):04X} {unicodedata.name(c, 'unnamed')}" for c in unusual)
        return f" ({team!r} has characters that only look like a team's: {names})"
    same_but_case = [k for k in known if k.casefold() == team.casefold()]
    if same_but_case:
        return f" (did you mean {same_but_case[0]}? teams are matched exactly)"
    return ""
