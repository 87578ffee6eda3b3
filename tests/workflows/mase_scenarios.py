"""Monthly panel runs, for recording MasePanelWorkflow replay histories (and for its tests).

`python -m tests.workflows.mase_scenarios` runs each on the time-skipping server, with the
visibility activities answering from canned cases, and writes its history to
tests/histories/mase-<version>-<name>.json. Never rewrite a committed history: a change to the
workflow that cannot replay them would break a panel run in flight.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from activities.mase import build_panel_documents, link_panel_documents
from activities.notify import Notifier, OutboxFile
from contract.activities import ListingRequest, PanelListing, ReadCases, ReadRequest
from contract.workflows import PanelOutcome
from domain.oversight import CaseFacts, PanelRun
from tests.domain.builders import (
    complete_assessment,
    decide,
    open_case,
    record,
    refer_to_mase,
    screening,
    strategy_discussion,
)
from workflows.mase_panel import MasePanelWorkflow
from workflows.sandbox import workflow_runner

HISTORIES = Path(__file__).parent.parent / "histories"
PanelHandle = WorkflowHandle[MasePanelWorkflow, PanelOutcome]


def facts_of(referral_id: str, *events: Any) -> CaseFacts:
    case = open_case(referral_id=referral_id)
    record(case, *events)
    return CaseFacts.from_status(case.status())


DISCUSSED = [decide("assess"), screening(2), complete_assessment(), strategy_discussion()]
CASES = [
    facts_of("R-REFERRED", *DISCUSSED, refer_to_mase()),
    facts_of("R-WAITING", decide("assess"), screening(1)),
    facts_of("R-ZERO", decide("assess"), screening(0)),
]
LISTING = PanelListing(
    referred=["referral-R-REFERRED"],
    not_referred=["referral-R-WAITING"],
    reported=["referral-R-REFERRED", "referral-R-WAITING", "referral-R-ZERO"],
)


@dataclass
class FakeVisibility:
    """`list_panel_cases` and `read_panel_cases` under their real names, with canned cases."""

    listing: PanelListing = field(default_factory=lambda: LISTING)
    cases: list[CaseFacts] = field(default_factory=lambda: list(CASES))
    failures_before_reading: int = 0
    listed: list[ListingRequest] = field(default_factory=list)
    read: list[ReadRequest] = field(default_factory=list)

    @activity.defn(name="list_panel_cases")
    async def list_panel_cases(self, request: ListingRequest) -> PanelListing:
        self.listed.append(request)
        return self.listing

    @activity.defn(name="read_panel_cases")
    async def read_panel_cases(self, request: ReadRequest) -> ReadCases:
        self.read.append(request)
        if self.failures_before_reading:
            self.failures_before_reading -= 1
            raise RuntimeError("visibility is down for a moment")
        return ReadCases(cases=self.cases)


@asynccontextmanager
async def panel_worker(
    env: WorkflowEnvironment, visibility: FakeVisibility, outbox: Path
) -> AsyncIterator[str]:
    """A worker for the panel on a fresh task queue; yields the task queue."""
    task_queue = f"panel-{uuid.uuid4()}"
    notifier = Notifier([OutboxFile(outbox)], "https://cse.example.org")
    async with Worker(
        env.client,
        task_queue=task_queue,
        workflows=[MasePanelWorkflow],
        activities=[
            visibility.list_panel_cases,
            visibility.read_panel_cases,
            build_panel_documents,
            link_panel_documents,
            notifier.notify,
        ],
        workflow_runner=workflow_runner(strict=True),
    ):
        yield task_queue


async def start_panel(
    env: WorkflowEnvironment, task_queue: str, panel_name: str = "MASE"
) -> PanelHandle:
    return await env.client.start_workflow(
        MasePanelWorkflow.run,
        PanelRun(panel_name=panel_name),
        id=f"mase-panel-test-{uuid.uuid4().hex[:8]}",
        task_queue=task_queue,
    )


SCENARIOS: dict[str, Callable[[], FakeVisibility]] = {
    "agenda_and_report": FakeVisibility,
    "nothing_to_list": lambda: FakeVisibility(
        listing=PanelListing(referred=[], not_referred=[], reported=[]), cases=[]
    ),
    "visibility_outage_retried": lambda: FakeVisibility(failures_before_reading=1),
}


async def record_panel(version: str) -> None:
    from tests.conftest import start_test_server

    async with await start_test_server(sealed=False) as env:
        for name, visibility in SCENARIOS.items():
            await _record_one(env, f"mase-{version}-{name}", visibility())


async def _record_one(env: WorkflowEnvironment, stem: str, visibility: FakeVisibility) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        async with panel_worker(env, visibility, folder / "outbox.jsonl") as queue:
            handle = await start_panel(env, queue)
            await handle.result()
            history = await handle.fetch_history()
    path = HISTORIES / f"{stem}.json"
    path.write_text(history.to_json())
    print(f"recorded {path} ({len(history.events)} events)")


if __name__ == "__main__":
    asyncio.run(record_panel(sys.argv[1] if len(sys.argv) > 1 else "v2"))
