"""The files an operator writes, read at the edge and handed to the domain as models: the
policy folder, the directory of addresses, GOV.UK Notify's templates and the API's users file.

Each is TOML read into its pydantic model; a file that is missing, not TOML or not valid is
refused with an error that names the file and the field, which each loader turns into its
domain's own error so start-up stops saying what is wrong.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from domain.directory import AddressKind, Directory, DirectoryError
from domain.errors import field_errors
from domain.govuk_notify import NotifyTemplateError, NotifyTemplates
from domain.policy import Policy, PolicyBook, PolicyError
from domain.roles import Role
from edge.policy_ledger import reconcile

M = TypeVar("M", bound=BaseModel)


class FileRefused(Exception):
    """The file is missing, not TOML, or not valid for its model; the message says which."""


def read_toml(path: Path, model: type[M], what: str) -> M:
    """`what` names the kind of file in the message, e.g. "policy file"."""
    return validated(path, read_raw_toml(path, what), model, what)


def read_raw_toml(path: Path, what: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise FileRefused(f"{what} {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise FileRefused(f"{what} {path}: not valid TOML: {err}") from err


def validated(path: Path, raw: dict[str, Any], model: type[M], what: str) -> M:
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise FileRefused(f"{what} {path}: {'; '.join(field_errors(err))}") from err


def load_users(path: Path, model: type[M]) -> M:
    """The API's users file, read into `model` (api/auth.py's UsersFile): edge code does not
    import the API, so the API names its model."""
    return read_toml(path, model, "users file")


def load_policy_book(
    folder: Path | None, ledger: Path | None = None, now: datetime | None = None
) -> PolicyBook:
    """Every `*.toml` policy file in a folder; no folder means the directive's defaults.

    With a ledger (the worker's), each version is checked against what it said when first
    seen, and dated by then (edge/policy_ledger.py); readers without one take the files."""
    if folder is None:
        return PolicyBook(versions=[Policy()])
    if not folder.is_dir():
        raise PolicyError(f"policy folder {folder}: not a folder")
    files = sorted(folder.glob("*.toml"))
    if not files:
        raise PolicyError(f"policy folder {folder}: no *.toml policy files")
    read = [_read_policy(f) for f in files]
    try:
        book = PolicyBook(versions=[policy for policy, _ in read], sources=[str(f) for f in files])
    except ValidationError as err:
        raise PolicyError(f"policy folder {folder}: {'; '.join(field_errors(err))}") from err
    if ledger is None:
        return book
    return reconcile(book, [digest for _, digest in read], ledger, now or datetime.now(UTC))


def _read_policy(path: Path) -> tuple[Policy, str]:
    """A policy file and the digest of what it says (its data, not its comments or layout,
    nor the defaults the code fills in, which may grow with new clocks)."""
    try:
        raw = read_raw_toml(path, "policy file")
        policy = validated(path, raw, Policy, "policy file")
    except FileRefused as err:
        raise PolicyError(str(err)) from err
    canonical = json.dumps(raw, sort_keys=True, default=str)
    return policy, hashlib.sha256(canonical.encode()).hexdigest()


def load_policy(path: Path) -> Policy:
    """Read and validate one policy file (TOML)."""
    try:
        return read_toml(path, Policy, "policy file")
    except FileRefused as err:
        raise PolicyError(str(err)) from err


def load_directory(path: Path, needed: Iterable[Role] = ()) -> Directory:
    """Read and validate a directory file; every needed role must have a global entry."""
    try:
        directory = read_toml(path, Directory, "directory file")
    except FileRefused as err:
        raise DirectoryError(str(err)) from err
    missing = directory.missing(needed)
    if missing:
        names = ", ".join(r.value for r in missing)
        raise DirectoryError(f"directory file {path}: roles: no address for role(s) {names}")
    return directory


def known_authorities(path: Path | None) -> dict[str, str]:
    """The authority codes a referral may name (domain/authorities.py), with their names:
    the directory's other authorities and our own; none (any code accepted) without one."""
    return {} if path is None else load_directory(path).known_authorities


def load_notify_templates(path: Path, needed: Iterable[AddressKind] = ()) -> NotifyTemplates:
    """Read and validate a templates file; every kind of message needed must have its table."""
    try:
        templates = read_toml(path, NotifyTemplates, "GOV.UK Notify templates file")
    except FileRefused as err:
        raise NotifyTemplateError(str(err)) from err
    missing = templates.lacks(needed)
    if missing:
        tables = ", ".join(f"[{k.value}]" for k in missing)
        raise NotifyTemplateError(f"GOV.UK Notify templates file {path}: no {tables} table")
    return templates
