"""What cases on a task queue start with, installed by the worker before it polls.

A workflow may do no I/O, and a case's clocks must exist from its first moment (intake
queries them straight after the start), so the worker loads and validates the policy book
once and installs it here; this module is passed through the sandbox, so workflows read the
worker's copy. A case takes the version in force when its referral was received and keeps it
in its own state, so a replay or a later policy never changes a running case.
"""

from pydantic import BaseModel

from domain.policy import PolicyBook


class CaseConfig(BaseModel):
    policy_book: PolicyBook
    history_limit: int


_INSTALLED: dict[str, CaseConfig] = {}


def install(task_queue: str, config: CaseConfig) -> None:
    _INSTALLED[task_queue] = config


def for_task_queue(task_queue: str) -> CaseConfig:
    try:
        return _INSTALLED[task_queue]
    except KeyError:
        raise LookupError(f"no case configuration installed for task queue {task_queue}") from None
