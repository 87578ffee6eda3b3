"""The activities as the workflows and the worker both see them: their names, what each is
asked and answers, and how long each may take and how it is retried. The workflows schedule
them by these names; `activities/` implements them under the same names.

Every model here is in recorded histories (an activity's input and result): add optional
fields with defaults, never rename or remove one.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from pydantic import BaseModel
from temporalio.common import RetryPolicy

from domain.errors import INVALID_INPUT, PERMANENT_DELIVERY_ERROR
from domain.oversight import CaseFacts
from domain.policy import Policy
from domain.status import EarlierReferral

# -- names ----------------------------------------------------------------------------------
NOTIFY = "notify"
OPEN_CASE = "open_case"
EARLIER_CASES = "earlier_cases"
LIST_PANEL_CASES = "list_panel_cases"
READ_PANEL_CASES = "read_panel_cases"
BUILD_PANEL_DOCUMENTS = "build_panel_documents"
STORE_PANEL_DOCUMENTS = "store_panel_documents"  # runs before the documents were in history

# -- notify ---------------------------------------------------------------------------------
NOTIFY_TIMEOUT = timedelta(seconds=30)
PERMANENT_FAILURE = PERMANENT_DELIVERY_ERROR
"""The ApplicationError type a channel raises when retrying cannot help (a bad address)."""
NOTIFY_RETRY = RetryPolicy(  # never give up while a channel is down: back off to 10 minutes
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=10),
    non_retryable_error_types=[PERMANENT_FAILURE],
)

# -- opening a case -------------------------------------------------------------------------
EARLIER_CASES_TIMEOUT = timedelta(seconds=30)
EARLIER_CASES_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
)


class EarlierCasesRequest(BaseModel):
    workflow_id: str
    run_id: str  # the asking run, never counted


class EarlierCases(BaseModel):
    run_ids: list[str]


class OpeningRequest(BaseModel):
    workflow_id: str
    run_id: str  # the asking run, never counted
    received_at: datetime
    started_at: datetime  # versions published after the case started are not its
    # None in requests scheduled before teams and the child index were asked.
    team: str | None = None
    child_ref: str | None = None
    # None in requests scheduled before authorities were asked, and when the referral has none.
    placing_authority: str | None = None
    host_authority: str | None = None


class Opening(BaseModel):
    """The policy the case keeps for life, the earlier cases of its referral id and, in
    answers since teams and the child index (the defaults: recorded answers read as before),
    why its team is refused, its child index and the child's earlier cases."""

    policy: Policy
    earlier_run_ids: list[str]
    team_problem: str | None = None
    child_index: str | None = None
    earlier_referrals: list[EarlierReferral] = []
    # Since authorities (the defaults again): why one is refused, naming its field, and the
    # referral's authorities other than ours, who are told of the case.
    authority_problem: str | None = None
    other_authorities: list[str] = []


# -- the monthly panel ----------------------------------------------------------------------
READ_TIMEOUT = timedelta(minutes=10)
READ_HEARTBEAT = timedelta(seconds=30)
BUILD_TIMEOUT = timedelta(minutes=2)
STORE_TIMEOUT = timedelta(minutes=1)
PANEL_READ_RETRY = RetryPolicy(  # visibility or the frontend may be down: about an hour
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=15,
    non_retryable_error_types=[INVALID_INPUT],
)
PANEL_BUILD_RETRY = RetryPolicy(  # rendering is pure: a failure is a bug, shown not hidden
    initial_interval=timedelta(seconds=2),
    maximum_attempts=3,
    non_retryable_error_types=[INVALID_INPUT],
)
PANEL_STORE_RETRY = RetryPolicy(  # runs before the documents were in history: about a day
    initial_interval=timedelta(seconds=10),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=30),
    maximum_attempts=60,
    non_retryable_error_types=[INVALID_INPUT],
)


class ListingRequest(BaseModel):
    as_of: datetime


class PanelListing(BaseModel):
    """Workflow ids (one case each) found by each visibility query."""

    referred: list[str]
    not_referred: list[str]
    reported: list[str]
    not_running: list[str] = []  # out of sight: read to be counted, never listed

    @property
    def every_case(self) -> list[str]:
        return sorted({*self.referred, *self.not_referred, *self.reported, *self.not_running})


class ReadRequest(BaseModel):
    workflow_ids: list[str]


class ReadCases(BaseModel):
    cases: list[CaseFacts]
    unreadable: int = 0
    not_running: int = 0


class BuildRequest(BaseModel):
    panel_name: str
    as_of: datetime
    agenda_candidates: list[str]  # workflow ids found by queries (a) and (b)
    read: ReadCases


class PanelDocuments(BaseModel):
    run_date: date
    files: dict[str, str]  # file name -> content
    referred: int
    not_referred: int


class StoredDocuments(BaseModel):
    folder: str = ""  # where runs started before the documents moved into the history kept them
    links: dict[str, str]  # file name -> link path, e.g. /reports/2026-03-03/agenda.html
