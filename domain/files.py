"""Reading a TOML file into a pydantic model, with an error that names the file and field.

The policy, the directory and the API's users file are all read this way; each caller turns
`FileRefused` into its own error so start-up stops saying which file and field is wrong.
"""

import tomllib
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from domain.errors import field_errors

M = TypeVar("M", bound=BaseModel)


class FileRefused(Exception):
    """The file is missing, not TOML, or not valid for its model; the message says which."""


def read_toml(path: Path, model: type[M], what: str) -> M:
    """`what` names the kind of file in the message, e.g. "policy file"."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise FileRefused(f"{what} {path}: {err.strerror}") from err
    except tomllib.TOMLDecodeError as err:
        raise FileRefused(f"{what} {path}: not valid TOML: {err}") from err
    try:
        return model.model_validate(raw)
    except ValidationError as err:
        raise FileRefused(f"{what} {path}: {'; '.join(field_errors(err))}") from err
