"""The workflows as clients see them: their type names, the queries they answer, what the
monthly panel returns, and the search attribute Temporal sets on a scheduled run.
`workflows/` defines them under these names; `edge`, `api` and `cli` start and read them by
these names, without importing the workflow code."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel
from temporalio.common import SearchAttributeKey

REFERRAL_WORKFLOW = "ReferralWorkflow"
MASE_PANEL_WORKFLOW = "MasePanelWorkflow"
STATUS_QUERY = "status"
DOCUMENT_QUERY = "document"

SCHEDULED_START = SearchAttributeKey.for_datetime("TemporalScheduledStartTime")
"""Set by Temporal on every workflow a schedule starts: when the action was due."""


class PanelOutcome(BaseModel):
    """What a monthly panel run returns (in its history: add fields, never remove one)."""

    run_date: date
    referred: int
    not_referred: int
    links: dict[str, str]
    notifications: list[str]
