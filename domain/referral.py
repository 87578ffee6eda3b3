"""The start contract: the referral the intake system starts a case with (docs/rules.md,
Stages), and the workflow id it is known by."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from domain.vocabulary import Indicator, Name, Text

EARLIEST_REFERRAL = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_REFERRAL = datetime(2100, 1, 1, tzinfo=UTC)
ADULTHOOD_YEARS = 18

AuthorityCode = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
"""A local authority's code, as the directory lists the other authorities (docs/rules.md, One
child across referrals)."""


class Referral(BaseModel):
    """The intake system's start input: one referral, one case."""

    model_config = ConfigDict(extra="forbid")
    referral_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    received_at: AwareDatetime
    child_ref: Name
    team: Name
    referrer_agency: Name
    concerns: list[Indicator] = []
    significant_harm_suspected: bool = False
    summary: Text = ""
    # Optional since contract v3 (docs/rules.md, Clocks).
    date_of_birth: date | None = None
    looked_after: bool = False
    placing_authority: AuthorityCode | None = None
    host_authority: AuthorityCode | None = None

    @field_validator("received_at")
    @classmethod
    def _within_the_calendar(cls, received_at: datetime) -> datetime:
        """The working-day calendar covers 1995-2100; a clock must never reach outside it."""
        if not EARLIEST_REFERRAL <= received_at < LATEST_REFERRAL:
            raise ValueError("a referral must be received between 2000 and 2099")
        return received_at

    @field_validator("date_of_birth")
    @classmethod
    def _a_child_when_referred(cls, born: date | None, info: ValidationInfo) -> date | None:
        """Checked against `received_at` (validated first), so a refusal names this field."""
        received_at = info.data.get("received_at")
        if born is None or received_at is None:
            return born
        if born > received_at.date():
            raise ValueError("after the referral was received")
        if years_between(born, received_at.date()) >= ADULTHOOD_YEARS:
            raise ValueError(
                f"the child was {ADULTHOOD_YEARS} or over when referred; "
                "this pathway is for children"
            )
        return born

    @property
    def age_at_referral(self) -> int | None:
        """Whole years on the day the referral was received, if the date of birth is known."""
        if self.date_of_birth is None:
            return None
        return years_between(self.date_of_birth, self.received_at.date())

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.referral_id)


WORKFLOW_ID_PREFIX = "referral-"
"""A case's workflow id is the prefix and its referral id: one case per referral."""


def workflow_id_for(referral_id: str) -> str:
    return f"{WORKFLOW_ID_PREFIX}{referral_id}"


def referral_id_of(workflow_id: str) -> str:
    return workflow_id.removeprefix(WORKFLOW_ID_PREFIX)


def years_between(born: date, on: date) -> int:
    """Whole years from `born` to `on` (a birthday on 29 February counts on 1 March)."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))
