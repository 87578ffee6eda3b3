"""The policy book cases on a task queue start with, installed by the worker before it polls.

A workflow may do no I/O, and a case's clocks must exist from its first moment (intake
queries them straight after the start), so the worker loads and validates the policy book
once and installs it here; this module is passed through the sandbox, so workflows read the
worker's copy. A case takes the version in force when its referral was received and keeps it
in its own state, so a replay or a later policy never changes a running case.
"""

from domain.policy import PolicyBook

ANY_TASK_QUEUE = "*"
"""Install under this name to serve every task queue (the replayer names its own queue)."""

_INSTALLED: dict[str, PolicyBook] = {}


def install(task_queue: str, book: PolicyBook) -> None:
    _INSTALLED[task_queue] = book


def policy_book_for(task_queue: str) -> PolicyBook:
    book = _INSTALLED.get(task_queue) or _INSTALLED.get(ANY_TASK_QUEUE)
    if book is None:
        raise LookupError(f"no policy book installed for task queue {task_queue}")
    return book
