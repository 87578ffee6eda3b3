"""People are roles: notifications are addressed to these, resolved through a directory."""

from enum import StrEnum


class Role(StrEnum):
    social_worker = "social_worker"
    team_manager = "team_manager"
    specialist_safeguarding_lead = "specialist_safeguarding_lead"
    head_of_service = "head_of_service"
    strategic_lead = "strategic_lead"
    mash = "mash"
    police_spoc = "police_spoc"
    education_safeguarding_lead = "education_safeguarding_lead"
    named_nurse = "named_nurse"
    voluntary_sector = "voluntary_sector"
    data_analyst = "data_analyst"
    mase_chair = "mase_chair"
