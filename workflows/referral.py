"""ReferralWorkflow: one durable workflow per CSE referral (docs/rules.md, Events).

The story, top to bottom: open the case and its first clocks under the policy in force when
the referral was received (a start of any other shape, from any client, fails the run at once
naming the referral's fields), ask once, in an activity whose answer stays in the history,
which policy the case keeps for life, whether its referral id had a case before, whether its
team and authorities are the service's, and the child's index and earlier referrals, then wait.
Practitioners' updates are checked by the domain before anything reaches history
(validators), recorded by the handlers, and answered with a small receipt; whenever a ladder
step of a clock comes due the workflow wakes, marks it, and sends the notification. The case
ends when the pathway closes it; a case that lives for years continues as new with everything
it has recorded (only the engine can start such a run).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any, ClassVar, TypeAlias, TypeVar

from pydantic import BaseModel, ValidationError
from temporalio import workflow
from temporalio.common import SearchAttributeUpdate
from temporalio.exceptions import ActivityError, ApplicationError

from workflows.child_link import link_the_child

with workflow.unsafe.imports_passed_through():
    from contract import search_attributes as sa
    from contract.activities import (
        EARLIER_CASES,
        EARLIER_CASES_RETRY,
        EARLIER_CASES_TIMEOUT,
        NOTIFY,
        NOTIFY_RETRY,
        NOTIFY_TIMEOUT,
        OPEN_CASE,
        PERMANENT_FAILURE,
        EarlierCases,
        EarlierCasesRequest,
        Opening,
        OpeningRequest,
    )
    from contract.child_indexing import (
        INDEX_CHILD,
        INDEXING_RETRY,
        INDEXING_TIMEOUT,
        ChildIndexed,
        IndexChild,
        Indexing,
        IndexingRequest,
    )
    from contract.refusals import (
        case_not_open,
        duplicate_referral,
        invalid_input,
        not_indexable,
        pathway_refusal,
    )
    from domain import events as ev
    from domain.case import Case
    from domain.errors import PathwayRefusal, field_errors
    from domain.events import EVENT_TYPES, Event
    from domain.notifications import Notification
    from domain.policy import Policy
    from domain.referral import Referral
    from domain.status import CaseStatus, Receipt
    from domain.teams import TEAM_FIELD
    from domain.timing import IN_THE_FUTURE, is_in_the_future
    from workflows import configuration
    from workflows.metrics import ClockCounter

ONE_CASE_PER_REFERRAL_ID = "one-case-per-referral-id"
"""Patch: a fresh run first asks whether its referral id already had a case (cases started
before it never asked, and replay without asking)."""


ONE_ALARM_UNTIL_IT_MOVES = "one-alarm-until-it-moves"
"""Patch: the wake-up timer is kept while the next wake-up time stays (before it, every update
cancelled the timer and started another)."""
EARLIER_CASES_ASKED_LOCALLY = "earlier-cases-asked-locally"
"""Patch (withdrawn by the next): a new case asked about earlier cases of its referral id as a
local activity. Updates arriving while it ran could be replayed in another order than they
ran, which moved where the alarm's patch was asked, and a replay then failed; kept only so that
runs recorded with it replay."""
EARLIER_CASES_ASKED_THROUGH_THE_SERVER = "earlier-cases-asked-through-the-server"
"""Patch: a new case asks about earlier cases as an activity the server schedules again, whose
answer arrives in a task of its own, after every update accepted before it."""
SEND_EVERYTHING_BEFORE_THE_RUN_ENDS = "send-everything-before-the-run-ends"
"""Patch: notifications added while a run waits on its last sends are sent too (before it, a
run that continued as new, or closed, while a send was slow dropped them)."""
PLAN_KEEPS_CASE_OPEN = "plan-keeps-case-open"
"""Patch: a child protection plan in force keeps the case open (docs/rules.md, Stages).
Asked only when it changes an event's outcome (a low review, a close or a no further action
while a plan is in force): runs recorded before it closed there, and replay as they ran; in
every other respect the statechart takes their events as the single line did."""
PARTNERS_TOLD = "partners-told"
"""Patch: partners are told when a strategy meeting falls due and the MASE panel acts
(docs/rules.md, Who is told). Asked only when an event (or the referral) would first tell
them: runs recorded before it told nobody there, and replay as they ran."""
POLICY_KEPT_IN_HISTORY = "policy-kept-in-history"
"""Patch: a new case's policy is the answer of its opening activity, kept in its history, so
a replay never reads it from the worker's files of the day (before it, every replay worked
the version out again; those runs read it among the versions published when they started)."""


class CarriedCase(BaseModel):
    """What a case carries into its next run when it continues as new."""

    case: Case


E = TypeVar("E", bound=Event)
Update: TypeAlias = workflow.UpdateMethodMultiParam[["ReferralWorkflow", E], Receipt]
"""What a generated update is to a caller: the workflow and one event, answered by a receipt
(the protocol `WorkflowHandle.execute_update` takes, so a client's call is type-checked)."""


def _an_update_per_event(cls: type[Any]) -> type[Any]:
    """One named update, checked by its validator before anything reaches history, for each
    event of the pathway (EVENT_TYPES, which the pathway machine is checked against)."""
    for event_type in EVENT_TYPES.values():
        setattr(cls, event_type.name, _update_for(event_type))
    return cls


def _update_for(event_type: type[Event]) -> Callable[..., Any]:
    # `*given, **_`: any number of payloads of any shape is refused naming the input.
    async def record(self: Any, *given: Any, **_: Any) -> Receipt:
        receipt: Receipt = await self._record(event_type, given)
        return receipt

    def check(self: Any, *given: Any, **_: Any) -> None:
        self._check(event_type, given)

    record.__name__ = record.__qualname__ = event_type.name
    update = workflow.update(name=event_type.name)(record)
    update.validator(check)
    return update


@workflow.defn(name="ReferralWorkflow")
@_an_update_per_event
class ReferralWorkflow:
    # The updates `_an_update_per_event` makes, one per event, typed for readers, IDEs and mypy
    # (`handle.execute_update(ReferralWorkflow.decide, Decide(...))`); a test checks they are
    # exactly EVENT_TYPES. Their names are the events', as the `temporal` CLI sends them.
    decide: ClassVar[Update[ev.Decide]]
    record_screening: ClassVar[Update[ev.RecordScreening]]
    complete_assessment: ClassVar[Update[ev.CompleteAssessment]]
    record_strategy_discussion: ClassVar[Update[ev.RecordStrategyDiscussion]]
    conclude_s47: ClassVar[Update[ev.ConcludeS47]]
    agree_cin_plan: ClassVar[Update[ev.AgreeCinPlan]]
    record_cp_conference: ClassVar[Update[ev.RecordCpConference]]
    record_safety_plan: ClassVar[Update[ev.RecordSafetyPlan]]
    record_review: ClassVar[Update[ev.RecordReview]]
    refer_to_mase: ClassVar[Update[ev.ReferToMase]]
    record_missing_episode: ClassVar[Update[ev.RecordMissingEpisode]]
    record_cp_review: ClassVar[Update[ev.RecordCpReview]]
    record_return_interview: ClassVar[Update[ev.RecordReturnInterview]]
    raise_professional_concern: ClassVar[Update[ev.RaiseProfessionalConcern]]
    record_consultation: ClassVar[Update[ev.RecordConsultation]]
    record_disruption_activity: ClassVar[Update[ev.RecordDisruptionActivity]]
    allocate: ClassVar[Update[ev.Allocate]]
    close: ClassVar[Update[ev.Close]]
    record_mase_decision: ClassVar[Update[ev.RecordMaseDecision]]
    complete_mase_action: ClassVar[Update[ev.CompleteMaseAction]]
    record_transition_plan: ClassVar[Update[ev.RecordTransitionPlan]]

    # `*start`: any number of inputs of any shape reaches this code, so a bad start from any
    # client fails the case with a message instead of failing workflow tasks for ever.
    @workflow.init
    def __init__(self, *start: Any) -> None:
        self._refused: ApplicationError | None = None
        self._outbox: list[Notification] = []
        self._opened_at = workflow.now()
        self._settled = True  # the case's policy is its own (carried, or read from history)
        try:
            self._case, self._outbox = _opened(start)
        except ApplicationError as refusal:
            self._refused = refusal
        else:
            fresh = not continues_a_case(workflow.info())
            # Until the opening activity answers, the case's policy is the files' (the same
            # answer on a first run); updates wait for it, queries and validators do not.
            self._settled = not (fresh and workflow.patched(POLICY_KEPT_IN_HISTORY))
        self._sending: set[asyncio.Task[None]] = set()
        self._alarm: asyncio.Task[None] | None = None
        self._alarm_at: datetime | None = None
        self._changed = True
        self._published: dict[str, Any] = {}
        self._indexing = False  # an operator's index_child is under way or done

    @workflow.run
    async def run(self, *start: Any) -> CaseStatus:
        if self._refused is not None:
            raise self._refused
        if not self._settled:
            await self._take_the_opening_answer()
        elif not continues_a_case(workflow.info()) and workflow.patched(ONE_CASE_PER_REFERRAL_ID):
            self._publish(self._case)  # findable at once, as cases were before this check
            await _refuse_a_second_case(self._case)
        case = self._case
        self._clock_moves = ClockCounter(case.clocks if continues_a_case(workflow.info()) else ())
        while not (case.is_closed and not self._outbox):
            await self._sleep_until_something_happens(case)
            self._changed = False
            self._outbox += case.fire_due_steps(workflow.now())
            self._clock_moves.count(case.clocks)  # cse_clocks_*_total, replay-safe
            self._dispatch()
            self._publish(case)
            if self._history_is_long(case):
                await self._continue_as_new(case)
        await self._send_everything()
        return case.status()

    async def _take_the_opening_answer(self) -> None:
        """Ask the opening activity and act on its answer. Its own frame, so the answer (a
        whole policy, about 14 KiB) is not kept alive by `run` for the case's life: the case
        keeps the book's shared policy when they are equal."""
        opening = await _ask_at_opening(self._case)
        self._settle(opening.policy)
        if opening.team_problem is not None:  # never published: on no team's caseload
            raise invalid_input([f"{TEAM_FIELD}: {opening.team_problem}"])
        if opening.authority_problem is not None:  # an authority no one could tell
            raise invalid_input([opening.authority_problem])
        self._case.other_authorities = opening.other_authorities
        self._publish(self._case)
        if opening.earlier_run_ids:
            raise duplicate_referral(self._case.referral_id, opening.earlier_run_ids[-1])
        link_the_child(self._case, opening)

    # -- queries ---------------------------------------------------------------------------
    @workflow.query
    def status(self) -> CaseStatus:
        return self._opened_case().status()

    # -- updates: one per event of the pathway, made by `_an_update_per_event` above --------

    # -- an operator's update, not a practitioner's event ------------------------------------
    @workflow.update(name=INDEX_CHILD)
    async def index_child(self, asked: IndexChild) -> ChildIndexed:
        """Index a case started before the child index (contract/child_indexing.py): the
        activity's answer, kept in the history, gives the case its index and the child's
        earlier referrals as an opening answer does. Histories recorded before it hold no
        such update, so they replay without a patch."""
        self._refuse_indexing()  # another, accepted alongside this one, may have run first
        self._indexing = True
        case = self._case
        asking = IndexingRequest(
            workflow_id=workflow.info().workflow_id, child_ref=case.referral.child_ref
        )
        found = await workflow.execute_activity(
            INDEX_CHILD,
            asking,
            result_type=Indexing,
            start_to_close_timeout=INDEXING_TIMEOUT,
            retry_policy=INDEXING_RETRY,
        )
        if found.child_index is None:
            self._indexing = False
            raise not_indexable("the worker has no child index keys (CSE_INDEX_KEYS)")
        link_the_child(case, found)
        self._changed = True
        workflow.logger.info("child index set at %s's request", asked.actor)
        return ChildIndexed(
            referral_id=case.referral_id,
            earlier_referrals=len(case.earlier_referrals),
            re_referral=case.re_referral,
        )

    @index_child.validator
    def _may_index_child(self, asked: IndexChild) -> None:
        self._refuse_indexing()

    def _refuse_indexing(self) -> None:
        case = self._opened_case()
        if not self._settled:
            raise not_indexable("the case is still opening, and its opening indexes it")
        if case.is_closed:
            raise not_indexable("the case is closed")
        indexed = workflow.info().typed_search_attributes.get(sa.CSE_CHILD_INDEX) is not None
        if indexed or self._indexing:
            raise not_indexable("the case already has a child index")

    # -- how an event is checked and recorded ----------------------------------------------
    def _opened_case(self) -> Case:
        """The case; queries and updates to a case whose start was refused are refused."""
        if self._refused is not None:
            raise case_not_open(self._refused)
        return self._case

    def _check(self, expected: type[Event], given: tuple[Any, ...]) -> None:
        """Refuse before anything reaches history: a payload that is not the event's, or an
        event the pathway does not allow now."""
        event = event_from(expected, given)
        case = self._opened_case()
        _refuse_on_pathway_error(lambda: case.check(event, workflow.now()))

    async def _record(self, expected: type[Event], given: tuple[Any, ...]) -> Receipt:
        event = event_from(expected, given)
        if not self._settled:  # never awaited once settled: the order of old runs is kept
            await workflow.wait_condition(lambda: self._settled)
        case = self._case
        if case.plan_rule_matters(event):
            case.plan_rule = workflow.patched(PLAN_KEEPS_CASE_OPEN)
        # `apply` checks again: another update accepted alongside this one may have run first.
        _refuse_on_pathway_error(
            lambda: self._outbox.extend(case.apply(event, workflow.now(), _partners_told))
        )
        self._changed = True
        workflow.logger.info("%s recorded; stage %s", event.name, case.stage.value)
        return case.receipt()

    def _settle(self, policy: Policy) -> None:
        """The case keeps the policy its history holds: opened again under it if the files
        said otherwise (a replay after they changed), before anything else was recorded."""
        if policy != self._case.policy:
            case = self._case
            self._case, self._outbox = Case.open(
                case.referral,
                policy,
                self._opened_at,
                case_key=case.case_key,
                plan_rule=None,
                partners_told=case.partners_told,  # as the first opening was answered
            )
        self._settled = True

    # -- waking and notifying ----------------------------------------------------------------

    async def _sleep_until_something_happens(self, case: Case) -> None:
        if self._changed or self._outbox:
            return
        wake_at = case.next_wakeup()
        timeout = None if wake_at is None else max(wake_at - workflow.now(), timedelta(0))
        if timeout == timedelta(0):
            return
        if workflow.patched(ONE_ALARM_UNTIL_IT_MOVES):
            self._set_alarm(wake_at)
            await workflow.wait_condition(lambda: self._changed or self._alarm_rang())
            return
        with contextlib.suppress(TimeoutError):  # the wake-up time has come
            await workflow.wait_condition(lambda: self._changed, timeout=timeout)

    def _set_alarm(self, wake_at: datetime | None) -> None:
        """One timer for the next wake-up, re-armed only when that time moves: an update that
        leaves it where it was costs no timer cancelled and started again in the history."""
        if wake_at == self._alarm_at and not self._alarm_rang():
            return
        if self._alarm is not None and not self._alarm.done():
            self._alarm.cancel()
        self._alarm_at, self._alarm = wake_at, None
        if wake_at is not None:
            self._alarm = asyncio.create_task(workflow.sleep(wake_at - workflow.now()))

    def _alarm_rang(self) -> bool:
        return self._alarm is not None and self._alarm.done()

    def _dispatch(self) -> None:
        while self._outbox:
            notification = self._outbox.pop(0)
            task = asyncio.create_task(self._send(notification))
            self._sending.add(task)
            task.add_done_callback(self._sending.discard)

    async def _send(self, notification: Notification) -> None:
        """Deliver at least once; a permanent failure (a bad address) is kept on the case and
        raised to the team manager instead of being retried for ever."""
        try:
            await workflow.execute_activity(
                NOTIFY,
                notification,
                start_to_close_timeout=NOTIFY_TIMEOUT,
                retry_policy=NOTIFY_RETRY,
            )
        except ActivityError as failure:
            cause = failure.cause
            if not (isinstance(cause, ApplicationError) and cause.type == PERMANENT_FAILURE):
                raise
            now = workflow.now()
            self._outbox += self._case.record_delivery_failure(notification, cause.message, now)
            self._changed = True

    async def _drain(self) -> None:
        self._dispatch()
        if self._sending:
            await asyncio.gather(*self._sending)

    def _publish(self, case: Case) -> None:
        """Keep the search attributes current, upserting only what has changed."""
        values: dict[str, Any] = {
            sa.CSE_STAGE.name: case.stage.value,
            sa.CSE_RISK_SCORE.name: case.risk_score,
            sa.CSE_OVERDUE.name: case.overdue,
            sa.CSE_NEXT_DUE.name: case.next_due,
            sa.CSE_TEAM.name: case.team,
            sa.CSE_COMPLEX.name: case.complex,
            sa.CSE_MASE_REFERRED.name: case.mase.referred,
        }
        changed = [k for k in sa.ALL_KEYS if self._published.get(k.name, ...) != values[k.name]]
        if not changed:
            return
        updates: list[SearchAttributeUpdate[Any]] = []
        for key in changed:
            value = values[key.name]
            updates.append(key.value_unset() if value is None else key.value_set(value))
        workflow.upsert_search_attributes(updates)
        self._published.update(values)

    def _history_is_long(self, case: Case) -> bool:
        info = workflow.info()
        return info.is_continue_as_new_suggested() or (
            info.get_current_history_length() > case.policy.continue_as_new_after_events
        )

    async def _send_everything(self) -> None:
        """Before the run ends: every notification out, and those added while waiting for
        them too (an update accepted meanwhile, a failed delivery raised to the manager)."""
        await workflow.wait_condition(workflow.all_handlers_finished)
        await self._drain()
        if not workflow.patched(SEND_EVERYTHING_BEFORE_THE_RUN_ENDS):
            return  # runs before the patch ended here, dropping what came in meanwhile
        while self._outbox or not workflow.all_handlers_finished():
            await workflow.wait_condition(workflow.all_handlers_finished)
            await self._drain()

    async def _continue_as_new(self, case: Case) -> None:
        await self._send_everything()
        self._clock_moves.count(case.clocks)  # moves recorded while the last sends went out
        workflow.continue_as_new(CarriedCase(case=case))


def continues_a_case(info: workflow.Info) -> bool:
    """Did this run begin by its case continuing as new? The engine says so (a continued run,
    first attempt); a retry or a cron run of a client's start is continued too, but carries
    the client's own input again, so it is a fresh start like any other."""
    return info.continued_run_id is not None and info.attempt == 1 and not info.cron_schedule


def _opened(start: tuple[Any, ...]) -> tuple[Case, list[Notification]]:
    """The case this run holds: carried over from the run it continues, or opened from a
    referral. Only the engine can say a run continues another, so a carried case cannot be
    started from outside."""
    info = workflow.info()
    if len(start) != 1:
        raise invalid_input([f"(input): a case starts from one referral, not {len(start)} inputs"])
    if continues_a_case(info):
        return CarriedCase.model_validate(start[0]).case, []
    referral = _referral(start[0])
    if info.workflow_id != referral.workflow_id:
        problem = f"a case for this referral must have the workflow id {referral.workflow_id}"
        raise invalid_input([f"referral_id: {problem}, not {info.workflow_id}"])
    book = configuration.policy_book_for(info.task_queue)
    policy = book.in_force_on(referral.received_at, info.workflow_start_time)
    _refuse_a_referral_from_the_future(referral, policy)
    case_key = info.first_execution_run_id.replace("-", "")[:12]
    # Whether a plan keeps the case open, and whether partners are told, are asked when each
    # first matters (PLAN_KEEPS_CASE_OPEN, PARTNERS_TOLD).
    return Case.open(
        referral,
        policy,
        workflow.now(),
        case_key=case_key,
        plan_rule=None,
        partners_told=None,
        ask=_partners_told,
    )


def _partners_told() -> bool:
    return workflow.patched(PARTNERS_TOLD)


async def _ask_at_opening(case: Case) -> Opening:
    """The policy the case keeps, its referral id's earlier cases, its team's check and the
    child's index and earlier cases, asked through the server so the answer, kept in the
    history, arrives after every update accepted before."""
    info = workflow.info()
    asking = OpeningRequest(
        workflow_id=info.workflow_id,
        run_id=info.run_id,
        received_at=case.referral.received_at,
        started_at=info.workflow_start_time,
        team=case.referral.team,
        child_ref=case.referral.child_ref,
        placing_authority=case.referral.placing_authority,
        host_authority=case.referral.host_authority,
    )
    opening: Opening = await workflow.execute_activity(
        OPEN_CASE,
        asking,
        result_type=Opening,
        start_to_close_timeout=EARLIER_CASES_TIMEOUT,
        retry_policy=EARLIER_CASES_RETRY,
    )
    return opening


async def _refuse_a_second_case(case: Case) -> None:
    """A referral id has one case for ever: a run started after an earlier case (a client
    ignoring REJECT_DUPLICATE) fails before it sends anything. Readers know a case by its
    published CseTeam on a run that has not failed (a case never fails; refused runs do)."""
    info = workflow.info()
    asking = EarlierCasesRequest(workflow_id=info.workflow_id, run_id=info.run_id)
    through_the_server = workflow.patched(EARLIER_CASES_ASKED_THROUGH_THE_SERVER)
    if not through_the_server and workflow.patched(EARLIER_CASES_ASKED_LOCALLY):
        earlier = await workflow.execute_local_activity(
            "earlier_cases",
            asking,
            result_type=EarlierCases,
            start_to_close_timeout=EARLIER_CASES_TIMEOUT,
            retry_policy=EARLIER_CASES_RETRY,
        )
    else:  # runs before either patch, and every run since the second
        earlier = await workflow.execute_activity(
            EARLIER_CASES,
            asking,
            result_type=EarlierCases,
            start_to_close_timeout=EARLIER_CASES_TIMEOUT,
            retry_policy=EARLIER_CASES_RETRY,
        )
    if earlier.run_ids:
        raise duplicate_referral(case.referral_id, earlier.run_ids[-1])


def event_from(expected: type[Event], given: tuple[Any, ...]) -> Event:
    """The update's one payload as its event. Handlers take `*given` so that any number of
    inputs of any shape (null, bytes, none, two) is refused naming the input, not a method."""
    if len(given) != 1:
        problem = f"{expected.name} takes one payload (a JSON object), not {len(given)}"
        raise invalid_input([f"(input): {problem}"])
    try:
        return expected.model_validate(given[0])
    except ValidationError as err:
        raise invalid_input(field_errors(err)) from None


def _referral(value: Any) -> Referral:
    try:
        return Referral.model_validate(value)
    except ValidationError as err:
        raise invalid_input(field_errors(err)) from None


def _refuse_a_referral_from_the_future(referral: Referral, policy: Policy) -> None:
    """A start cannot be refused, so a referral dated in the future fails its case at once."""
    if is_in_the_future(referral.received_at, workflow.now(), policy):
        received = referral.received_at.isoformat()
        raise invalid_input([f"received_at: {received} {IN_THE_FUTURE}"])


def _refuse_on_pathway_error(step: Callable[[], object]) -> None:
    """Run a domain step; a pathway refusal becomes a failed update naming the rule."""
    try:
        step()
    except PathwayRefusal as refusal:
        raise pathway_refusal(refusal) from None
