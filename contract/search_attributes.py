"""The search attributes supervisors filter on. No child identifiers, ever."""

from temporalio.common import SearchAttributeKey

CSE_STAGE = SearchAttributeKey.for_keyword("CseStage")
CSE_RISK_SCORE = SearchAttributeKey.for_int("CseRiskScore")
CSE_OVERDUE = SearchAttributeKey.for_bool("CseOverdue")
CSE_NEXT_DUE = SearchAttributeKey.for_datetime("CseNextDue")
CSE_TEAM = SearchAttributeKey.for_keyword("CseTeam")
CSE_COMPLEX = SearchAttributeKey.for_bool("CseComplex")
CSE_MASE_REFERRED = SearchAttributeKey.for_bool("CseMaseReferred")
# The keyed blind index of the child (domain/child_index.py), never the child_ref itself. Not
# in ALL_KEYS, which a case publishes again as it moves: a case's index is set once, at start.
CSE_CHILD_INDEX = SearchAttributeKey.for_keyword("CseChildIndex")
# When the referral was received, set with the child index: a later case of the child reads it
# to tell a re-referral (within 12 months) without opening this case.
CSE_RECEIVED_AT = SearchAttributeKey.for_datetime("CseReceivedAt")

ALL_KEYS = (
    CSE_STAGE,
    CSE_RISK_SCORE,
    CSE_OVERDUE,
    CSE_NEXT_DUE,
    CSE_TEAM,
    CSE_COMPLEX,
    CSE_MASE_REFERRED,
)
