"""The words the contract uses (docs/rules.md, Stages): stages, the screening tool's
indicators and models, levels of concern, kinds of disruption, and the shapes of free text,
names and scores."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000)]


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


Score = Annotated[int, Field(ge=0, le=3, strict=True)]


class Stage(StrEnum):
    referral_received = "referral_received"
    assessment = "assessment"
    strategy_discussion = "strategy_discussion"
    s47_enquiry = "s47_enquiry"
    child_in_need = "child_in_need"
    safety_plan = "safety_plan"
    review = "review"
    cp_plan = "cp_plan"
    """The CSE risk reviews have ended while a child protection plan is still in force."""
    closed = "closed"


class Indicator(StrEnum):
    """The SAFEGUARDED indicators of the directive's screening tool."""

    sexual_health = "sexual_health"
    absent_from_school = "absent_from_school"
    running_away = "running_away"
    familial_abuse = "familial_abuse"
    emotional_and_physical_condition = "emotional_and_physical_condition"
    gangs_older_age_groups_crime = "gangs_older_age_groups_crime"
    use_of_technology = "use_of_technology"
    alcohol_and_drug_misuse = "alcohol_and_drug_misuse"
    unexplained_gifts_or_money = "unexplained_gifts_or_money"
    distrust_of_authority = "distrust_of_authority"


class CseModel(StrEnum):
    peer_on_peer = "peer_on_peer"
    online = "online"
    inappropriate_relationship = "inappropriate_relationship"
    county_lines = "county_lines"
    gangs = "gangs"
    familial = "familial"
    organised = "organised"
    trafficking = "trafficking"


class Concern(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"


class DisruptionAction(StrEnum):
    """Multi-agency action against those exploiting the child, which the strategy meeting
    and the MASE panel track (the directive: "all appropriate actions ... to disrupt any
    perpetrators")."""

    abduction_warning_notice = "abduction_warning_notice"
    sexual_risk_order = "sexual_risk_order"
    arrest = "arrest"
    premises_or_licensing_action = "premises_or_licensing_action"
    online_takedown = "online_takedown"
    other = "other"
