"""Local authorities a referral names (docs/rules.md, Who is told): the authority that placed a
looked-after child (`placing_authority`) and the one the child lives in (`host_authority`).

Each code must be one the directory knows: its other authorities, or this service's own
(`authority`), or the case could name an authority no one can tell. With no directory, or one
that lists none (local runs, tests), any code is accepted, as teams are. Every place a case
starts asks `authority_problems`: the API's intake, `starter.py` and the dashboard through
edge/intake.py, and the workflow's own start check (the `open_case` activity's answer).

The authorities told of the case are the referral's codes other than our own (all of them
when the directory does not name our own).
"""

from __future__ import annotations

from collections.abc import Sequence

AUTHORITY_FIELDS = ("placing_authority", "host_authority")


def named_authorities(placing: str | None, host: str | None) -> dict[str, str]:
    """The authorities a referral names, by field (placing first)."""
    given = dict(zip(AUTHORITY_FIELDS, (placing, host), strict=True))
    return {field: code for field, code in given.items() if code is not None}


def authority_problem(code: str, known: Sequence[str]) -> str | None:
    """Why `code` is not one of the `known` authorities; None when it is, or none are known."""
    if not known or code in known:
        return None
    return f"{code!r} is not a local authority in the directory: give one of {', '.join(known)}"


def authority_problems(named: dict[str, str], known: Sequence[str]) -> list[tuple[str, str]]:
    """Each named authority the directory does not know, as (field, problem)."""
    problems = []
    for field, code in named.items():
        problem = authority_problem(code, known)
        if problem is not None:
            problems.append((field, problem))
    return problems


PLACED_IN = "placed in"  # by another authority, in this borough (we host)
PLACED_OUT = "placed out"  # by us, in another borough (another hosts)
ACROSS = "across borough lines"  # other authorities both place and host


def placement(placing: str | None, host: str | None, others: list[str]) -> str:
    """How a case crosses borough lines, from its authorities and which are not ours; ""
    when none is another's. A referral naming only the placing authority is of a child here."""
    placed_by_other, hosted_by_other = placing in others, host in others
    if placed_by_other and not hosted_by_other:
        return PLACED_IN
    if hosted_by_other and not placed_by_other:
        return PLACED_OUT
    return ACROSS if placed_by_other else ""


def other_authorities(named: dict[str, str], own: str | None) -> list[str]:
    """The named authorities that are not ours, each once, placing first."""
    return list(dict.fromkeys(c for c in named.values() if c != own))
