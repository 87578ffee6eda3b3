"""The start contract: the referral the intake system starts a case with (pathway.md
section 7), and the workflow id it is known by."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AwareDatetime, BaseModel, ConfigDict, StringConstraints, field_validator

from domain.vocabulary import Indicator, Name, Text

EARLIEST_REFERRAL = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_REFERRAL = datetime(2100, 1, 1, tzinfo=UTC)


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

    @field_validator("received_at")
    @classmethod
    def _within_the_calendar(cls, received_at: datetime) -> datetime:
        """The working-day calendar covers 1995-2100; a clock must never reach outside it."""
        if not EARLIEST_REFERRAL <= received_at < LATEST_REFERRAL:
            raise ValueError("a referral must be received between 2000 and 2099")
        return received_at

    @property
    def workflow_id(self) -> str:
        return workflow_id_for(self.referral_id)


def workflow_id_for(referral_id: str) -> str:
    return f"referral-{referral_id}"
