"""What a new case is started with: the policy in force and the workflow's own limits.

Called once per case as a local activity, so the policy version a case starts with is
recorded in its history and kept for the life of the case.
"""

from datetime import timedelta

from pydantic import BaseModel
from temporalio import activity

from domain.policy import Policy

CONFIG_TIMEOUT = timedelta(seconds=10)


class CaseConfig(BaseModel):
    policy: Policy
    history_limit: int


class CaseConfigSource:
    def __init__(self, policy: Policy, history_limit: int) -> None:
        self.config = CaseConfig(policy=policy, history_limit=history_limit)

    @activity.defn(name="load_case_config")
    async def load_case_config(self) -> CaseConfig:
        return self.config
