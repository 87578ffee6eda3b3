"""What the API answers besides the contract's own CaseStatus (domain/status.py)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from domain.policy import ClockName
from domain.referral import EARLIEST_REFERRAL, LATEST_REFERRAL
from domain.status import CaseStatus, ClockState, HistoryEntry
from domain.vocabulary import Stage
from edge.caseload import CaseAttributes, CaseSummary, ClockDue

WITHHELD = "withheld (null) for analysts: aggregates carry no case reference"

# The days the API takes lie within the working-day calendar's years, as a referral's
# received_at does (domain/referral.py): the service dates nothing outside them, and the
# arithmetic on a day (its London midnight, the day after) overflows near years 1 and 9999.
FIRST_DAY: date = EARLIEST_REFERRAL.date()
LAST_DAY: date = (LATEST_REFERRAL - timedelta(days=1)).date()


def outside_the_calendar(day: date) -> str | None:
    """Why `day` is not one the API takes; None when it is."""
    if FIRST_DAY <= day <= LAST_DAY:
        return None
    return f"must be a day from {FIRST_DAY} to {LAST_DAY} (the working-day calendar's years)"


class CaseItem(CaseAttributes):
    """One case in a listing, from its search attributes alone."""

    referral_id: str | None = Field(description=f"The case's referral id; {WITHHELD}")

    @classmethod
    def of(cls, case: CaseSummary, with_reference: bool) -> CaseItem:
        item = cls.model_validate(case.model_dump())
        return item if with_reference else item.model_copy(update={"referral_id": None})


class CaseList(BaseModel):
    cases: list[CaseItem]
    next_page_token: str | None = Field(
        description="Pass as `next_page_token` for the next page; null on the last page"
    )


class ForecastClock(BaseModel):
    referral_id: str | None = Field(description=f"The case's referral id; {WITHHELD}")
    team: str
    stage: Stage
    clock: ClockName
    due_at: datetime

    @classmethod
    def of(cls, due: ClockDue, with_reference: bool) -> ForecastClock:
        return cls(
            referral_id=due.referral_id if with_reference else None,
            team=due.team,
            stage=due.stage,
            clock=due.clock,
            due_at=due.due_at,
        )


class Forecast(BaseModel):
    working_days: int
    cutoff: datetime = Field(description="The end of the last working day the forecast covers")
    clocks: list[ForecastClock] = Field(description="Running clocks falling due, soonest first")


class EventRecorded(CaseStatus):
    """An event's answer: the case's new status, and the key that records the event once."""

    idempotency_key: str = Field(
        description="The caller's Idempotency-Key, or the one the API made: send the same "
        "request again with it and the event is recorded once (also the response header)"
    )


class CaseHistory(BaseModel):
    referral_id: str
    history: list[HistoryEntry]


class OpenClock(BaseModel):
    name: ClockName
    due_at: datetime
    state: ClockState


class CaseDiagram(BaseModel):
    referral_id: str
    stage: Stage
    open_clocks: list[OpenClock]
    format: Literal["mermaid"] = "mermaid"
    diagram: str = Field(
        description="Mermaid stateDiagram-v2 source: the current stage is classed `active`, "
        "its running clocks are in a note beside it"
    )


class Health(BaseModel):
    status: Literal["ok"] = "ok"
    temporal: Literal["reachable"] = "reachable"
