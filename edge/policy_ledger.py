"""The policy ledger: each policy version a worker has seen, the digest of what it says and
when it was first seen, kept in a small JSON file (CSE_POLICY_LEDGER).

A published version never changes: a file whose version the ledger knows with other content
stops the worker, naming the file (publish a new version instead). A version seen for the
first time is published at that moment: it applies to cases started from then on, whatever
its `effective_from` says, so a back-dated file is warned about and never moves a running
case (the book's `published_at`, read by `PolicyBook.in_force_on`). Versions present when
the ledger is begun count as published before any case.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import structlog
from pydantic import BaseModel, ValidationError

from domain.calendar import LONDON
from domain.policy import Policy, PolicyBook, PolicyError

log = structlog.get_logger("cse.policy")


class LedgerEntry(BaseModel):
    sha256: str
    first_seen: datetime | None = None
    """None: the version was there when the ledger was begun."""


class PolicyLedger(BaseModel):
    versions: dict[str, LedgerEntry] = {}


def reconcile(book: PolicyBook, digests: list[str], path: Path, now: datetime) -> PolicyBook:
    """Check the book against the ledger at `path` (`digests`: what each version's file
    says, in the book's order), record what is new, and return the book with each version's
    publication time. Raises PolicyError for a version that changed."""
    begun = not path.exists()
    ledger = PolicyLedger() if begun else _read(path)
    changed = False
    for index, policy in enumerate(book.versions):
        entry = ledger.versions.get(policy.version)
        if entry is not None:
            _refuse_a_changed_version(book.source(index), policy, digests[index], entry, path)
            continue
        ledger.versions[policy.version] = LedgerEntry(
            sha256=digests[index], first_seen=None if begun else now
        )
        changed = True
        if not begun:
            _published(book.source(index), policy, now)
    if changed:
        _write(path, ledger)
    published = {v: e.first_seen for v, e in ledger.versions.items() if e.first_seen is not None}
    return book.model_copy(update={"published_at": published})


def _refuse_a_changed_version(
    where: str, policy: Policy, digest: str, entry: LedgerEntry, path: Path
) -> None:
    if entry.sha256 == digest:
        return
    raise PolicyError(
        f"{where}: version {policy.version!r} was published with other content "
        f"(ledger {path}); a published version never changes: restore the file, or publish "
        "the change as a new file with a new version"
    )


def _published(where: str, policy: Policy, now: datetime) -> None:
    today = now.astimezone(LONDON).date()
    fields = {"version": policy.version, "file": where}
    if policy.effective_from < today:
        log.warning(
            "policy version back-dated: it applies only to referrals started from now on",
            effective_from=policy.effective_from.isoformat(),
            **fields,
        )
    else:
        log.info(
            "policy version published", effective_from=policy.effective_from.isoformat(), **fields
        )


def _read(path: Path) -> PolicyLedger:
    try:
        return PolicyLedger.model_validate_json(path.read_bytes())
    except OSError as err:
        raise PolicyError(f"policy ledger {path} (CSE_POLICY_LEDGER): {err.strerror}") from err
    except ValidationError as err:
        raise PolicyError(
            f"policy ledger {path}: not a policy ledger ({err.error_count()} errors)"
        ) from err


def _write(path: Path, ledger: PolicyLedger) -> None:
    """Atomically, so a worker starting beside another never reads half a ledger."""
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial.write_text(ledger.model_dump_json(indent=2) + "\n", encoding="utf-8")
        os.replace(partial, path)
    except OSError as err:
        where = f"policy ledger {path} (CSE_POLICY_LEDGER)"
        raise PolicyError(f"{where}: cannot write it: {err.strerror}") from err
