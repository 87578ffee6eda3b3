"""The pathway's conditions and guards (docs/rules.md, Guards), read by the machine.

Conditions choose which of an event's transitions its outcome takes; guards decide whether
it may be taken at all, raising `RuleBroken` with the rule's words. Every score threshold is
the case's `Policy.scores`. domain/pathway.py names each of these beside the transitions
they belong to, so a misspelt one fails the machine's construction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from domain.errors import RuleBroken
from domain.policy import ClockName
from domain.roles import Role
from domain.vocabulary import Concern, Stage

if TYPE_CHECKING:
    from domain.case import Case


_PLAN = (
    "the plan ends at a child protection review conference (record_cp_review with outcome end_plan)"
)


class PathwayRules:
    """The machine's conditions and guards, asking `self.case` (mixed into its model)."""

    case: Case
    plan_rule: bool
    """Does a plan in force keep the case open (contract v3)? Only a case recorded before
    the rule was asked answers no (domain/case.py)."""
    closes_on_no_further_action: frozenset[tuple[str, str]] = frozenset()
    """(stage, event) pairs where an outcome of no further action closes the case: read once
    from the machine's own transitions (domain/pathway.py)."""

    # -- conditions: which transition an event's outcome selects --------------------------
    def decision_is_assess(self, payload: Any) -> bool:
        return bool(payload.decision == "assess")

    def decision_is_nfa(self, payload: Any) -> bool:
        return bool(payload.decision == "nfa")

    def decision_opens_assessment(self, payload: Any) -> bool:
        """`assess`, or a strategy discussion at once, which opens the assessment too."""
        return payload.decision in ("assess", "strategy_discussion")

    def outcome_is_strategy_discussion(self, payload: Any) -> bool:
        return bool(payload.outcome == "strategy_discussion")

    def outcome_is_cin(self, payload: Any) -> bool:
        return bool(payload.outcome == "cin")

    def outcome_is_nfa(self, payload: Any) -> bool:
        return bool(payload.outcome == "nfa")

    def outcome_is_s47(self, payload: Any) -> bool:
        return bool(payload.outcome == "s47")

    def outcome_is_continue(self, payload: Any) -> bool:
        return bool(payload.outcome == "continue")

    def outcome_is_cin_or_nfa(self, payload: Any) -> bool:
        return payload.outcome in ("cin", "nfa")

    def outcome_is_cp_conference(self, payload: Any) -> bool:
        return bool(payload.outcome == "cp_conference")

    def outcome_is_cp_plan(self, payload: Any) -> bool:
        return bool(payload.outcome == "cp_plan")

    def outcome_is_no_plan(self, payload: Any) -> bool:
        return bool(payload.outcome == "no_plan")

    def outcome_is_end_plan(self, payload: Any) -> bool:
        return bool(payload.outcome == "end_plan")

    def outcome_is_continue_plan(self, payload: Any) -> bool:
        return bool(payload.outcome == "continue_plan")

    def concluding_an_enquiry(self, payload: Any) -> bool:
        return self.case.stage == Stage.s47_enquiry

    def screening_score_high(self, payload: Any) -> bool:
        """A screening scoring 2-3 brings a case whose reviews had ended back to review."""
        return not self.case.policy.scores.review_closes(payload.score)

    def plan_keeps_case_open(self, payload: Any = None) -> bool:
        return self.plan_rule and self.case.cp_plan_in_force

    def outcome_calls_for_a_safety_plan(self, payload: Any) -> bool:
        return payload.outcome in ("cp_conference", "risk_of_harm")

    def review_score_low(self, payload: Any) -> bool:
        return self.case.policy.scores.review_closes(payload.score)

    def review_score_high(self, payload: Any) -> bool:
        return not self.review_score_low(payload)

    # -- guards: each raises RuleBroken naming the rule -----------------------------------
    def screening_recorded(self, payload: Any) -> None:
        if self.case.risk_score is None:
            raise RuleBroken(
                "complete_assessment needs a CSE risk screening recorded first: the screening "
                "tool is completed as part of the initial assessment",
                rule="screening_required",
            )

    def nfa_needs_score_zero(self, payload: Any) -> None:
        closes = (self.case.stage.value, payload.name) in self.closes_on_no_further_action
        if payload.outcome != "nfa" or not closes:
            return
        score = self.case.risk_score
        if not self.case.policy.scores.allows_no_further_action(score):
            raise RuleBroken(
                f"no further action needs the latest screening score to be 0 (it is {score})",
                rule="nfa_needs_score_zero",
            )
        if self.case.professional_concern == Concern.high:
            raise RuleBroken(
                "no further action is refused while professional concern is high: a low score "
                "with high professional concern still needs consultation",
                rule="nfa_with_high_concern",
            )

    def plan_keeps_case_open_on_nfa(self, payload: Any) -> None:
        closes = (self.case.stage.value, payload.name) in self.closes_on_no_further_action
        if payload.outcome == "nfa" and closes and self.plan_keeps_case_open():
            raise RuleBroken(
                f"no further action is refused while a child protection plan is in force: {_PLAN}",
                rule="cp_plan_in_force",
            )

    def plan_keeps_case_open_on_close(self, payload: Any) -> None:
        if self.plan_keeps_case_open():
            raise RuleBroken(
                f"the case cannot be closed while a child protection plan is in force: {_PLAN}",
                rule="cp_plan_in_force",
            )

    def rationale_for_scored_case(self, payload: Any) -> None:
        score = self.case.risk_score or 0
        needs = self.case.policy.scores.needs_rationale(score)
        if payload.outcome != "strategy_discussion" and needs and not payload.rationale:
            raise RuleBroken(
                f"with a screening score of {score}, completing the assessment as "
                f"{payload.outcome} instead of a strategy discussion needs a written rationale: "
                "a score of 1-3 necessitates consideration of a strategy meeting",
                rule="rationale_required",
            )

    def complex_case_chair(self, payload: Any) -> None:
        if self.case.complex and payload.chair_role != Role.specialist_safeguarding_lead:
            raise RuleBroken(
                "a complex case's strategy discussion must be chaired by a specialist "
                "safeguarding lead",
                rule="complex_case_chair",
            )

    def further_meeting_is_due(self, payload: Any) -> None:
        if self.case.stage == Stage.strategy_discussion:
            return
        due = self.case.running(ClockName.further_strategy_meeting) or self.case.running(
            ClockName.strategy_discussion
        )
        if not due:
            raise RuleBroken(
                "outside the strategy discussion stage a strategy meeting is recorded only when "
                "one is due: after a review scoring 2-3 has opened the further strategy meeting "
                "clock, or when repeated missing episodes or a consultation have called one",
                rule="further_strategy_meeting_not_due",
            )

    def mase_referral_allowed(self, payload: Any) -> None:
        case = self.case
        if case.mase.referred:
            raise RuleBroken("the case is already referred to MASE", rule="mase_already_referred")
        if not case.strategy_discussions:
            raise RuleBroken(
                "a case referred to MASE must have had a strategy discussion",
                rule="mase_needs_strategy_discussion",
            )
        if not (payload.cris_number or case.cris_number):
            raise RuleBroken(
                "a case referred to MASE must have a police CSE CRIS number",
                rule="mase_needs_cris_number",
            )
        if not case.policy.scores.fits_mase(case.risk_score):
            raise RuleBroken(
                f"a case referred to MASE must have a latest screening score of 1-3 "
                f"(it is {case.risk_score})",
                rule="mase_needs_score",
            )

    def referred_to_mase(self, payload: Any) -> None:
        if not self.case.mase.referred:
            raise RuleBroken(
                "a MASE decision is recorded for a case referred to the MASE panel, and this "
                "case is not (refer_to_mase first)",
                rule="mase_decision_needs_referral",
            )

    def mase_action_is_open(self, payload: Any) -> None:
        actions = self.case.mase.actions
        action = next((a for a in actions if a.action_id == payload.action_id), None)
        if action is None:
            known = ", ".join(a.action_id for a in actions if a.completed_at is None) or "none"
            raise RuleBroken(
                f"action_id: {payload.action_id} is not an action of this case's MASE "
                f"decisions (open actions: {known})",
                rule="mase_action_unknown",
            )
        if action.completed_at is not None:
            raise RuleBroken(
                f"action_id: {payload.action_id} was completed at "
                f"{action.completed_at.isoformat()}",
                rule="mase_action_already_completed",
            )

    def initial_cp_conference_is_due(self, payload: Any) -> None:
        self._clock_is_running(
            ClockName.initial_cp_conference, "initial child protection conference"
        )

    def cp_review_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.cp_review_conference, "child protection review conference")

    def return_interview_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.return_home_interview, "return home interview")

    def consultation_is_due(self, payload: Any) -> None:
        self._clock_is_running(ClockName.consultation, "consultation")

    def transition_plan_is_due(self, payload: Any) -> None:
        if not self.case.running(ClockName.transition_planning):
            months = self.case.policy.transition_planning_from_months
            raise RuleBroken(
                "no transition plan is due for this case: transition planning opens when the "
                f"child reaches {months // 12} years {months % 12} months, and only for a "
                "case whose referral gives the date of birth",
                rule="transition_plan_not_due",
            )

    def _clock_is_running(self, clock: ClockName, words: str) -> None:
        if not self.case.running(clock):
            raise RuleBroken(f"no {words} is due for this case", rule=f"no_{clock.value}_due")
