"""First run on one machine: a local users file with one user per role, so a newcomer signs in
at once.

    python -m api.first_run USERS_FILE      (scripts/run.sh: USERS_FILE = data/users.toml)

Only when the API listens on loopback (CSE_API_HOST in 127.0.0.0/8, ::1 or `localhost`, as
api/same_origin.py judges it): anywhere else it makes nothing and exits 3, and a real users
file (CSE_USERS_FILE) or OIDC is needed. On the first run it creates USERS_FILE (mode 0600,
never replacing a file that is there) with an intake officer, a social worker and a team
manager of the demo team, a head of service, an analyst and the MASE panel's members (a
specialist safeguarding lead, a MASE chair, a police single point of contact), and prints the
dashboard's address and one line per role, `<role> <user id> <token>`. The tokens are shown
that once: the file keeps only their SHA-256 digests. Later runs print where the file is and
how to add a user (`python -m api.tokens`).

Exit codes: 0 ready to use, 2 bad usage or settings, 3 not on loopback.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from api.auth import ApiRole
from api.same_origin import is_loopback
from api.tokens import entry
from edge.settings import SettingsRefused, read_settings

DEMO_TEAM = "DEMO-NORTH"
"""The team of the first-run social worker and team manager (the demo caseload's first team)."""


@dataclass(frozen=True)
class LocalUser:
    role: ApiRole
    user_id: str
    team: str | None


LOCAL_USERS = (
    LocalUser(ApiRole.intake, "demo-intake@example.org", None),
    LocalUser(ApiRole.social_worker, "demo-sw@example.org", DEMO_TEAM),
    LocalUser(ApiRole.team_manager, "demo-tm@example.org", DEMO_TEAM),
    LocalUser(ApiRole.head_of_service, "demo-hos@example.org", None),
    LocalUser(ApiRole.analyst, "demo-analyst@example.org", None),
    LocalUser(ApiRole.specialist_safeguarding_lead, "demo-lead@example.org", None),
    LocalUser(ApiRole.mase_chair, "demo-mase-chair@example.org", None),
    LocalUser(ApiRole.police_spoc, "demo-police@example.org", None),
)


@dataclass(frozen=True)
class SignIn:
    """A user made on first run, with the token shown once."""

    user: LocalUser
    token: str

    def line(self) -> str:
        return f"{self.user.role.value} {self.user.user_id} {self.token}"


class NotLoopback(Exception):
    """The API would listen beyond this machine: no local users file is made or used."""


def dashboard_url(host: str, port: int) -> str:
    name = host.strip().strip("[]")
    if ":" in name:
        name = f"[{name}]"
    return f"http://{name}:{port}/dashboard/"


def users_file_text(sign_ins: list[SignIn], made_at: datetime) -> str:
    header = [
        "# Local users for the API on loopback, made by scripts/run.sh (api/first_run.py) on",
        f"# {made_at:%Y-%m-%d %H:%M} UTC. The tokens were printed once when this file was made;",
        "# only their SHA-256 digests are kept. Add a user with",
        "#     .venv/bin/python -m api.tokens USER_ID ROLE [TEAM]",
        "# and append the block it prints. Delete this file to have new tokens made on the next",
        "# run. Never used when the API listens beyond loopback: then set CSE_USERS_FILE or OIDC.",
    ]
    blocks = [entry(s.user.user_id, s.user.role, s.user.team, s.token) for s in sign_ins]
    return "\n".join(header) + "\n\n" + "\n\n".join(blocks) + "\n"


def ensure_users_file(path: Path, api_host: str) -> list[SignIn] | None:
    """Create the local users file if it is missing: the users made, with their tokens.

    None when the file was already there (it is left as it is, made readable by this user
    only). Raises NotLoopback, before touching anything, when `api_host` is not loopback.
    """
    if not is_loopback(api_host):
        raise NotLoopback(
            f"the API listens on {api_host}, beyond this machine: no local users file is made "
            "or used; set CSE_USERS_FILE to a users file (README 'HTTP API') or configure OIDC"
        )
    if path.exists():
        path.chmod(0o600)
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    sign_ins = [SignIn(user, secrets.token_urlsafe(32)) for user in LOCAL_USERS]
    text = users_file_text(sign_ins, datetime.now(UTC))
    # Written whole to a private temporary file, then linked into place: the file appears
    # complete or not at all, and a file made meanwhile by another run is never replaced.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            path.chmod(0o600)
            return None
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    return sign_ins


def made_message(path: Path, url: str, sign_ins: list[SignIn]) -> str:
    lines = [
        f"Sign in at {url} with one of these tokens, shown only now",
        f"({path} keeps their digests alone). <role> <user id> <token>:",
        *(s.line() for s in sign_ins),
    ]
    return "\n".join(lines)


def kept_message(path: Path, url: str) -> str:
    return "\n".join(
        [
            f"Sign in at {url} with a token of {path} (printed once, when it was made).",
            "A new user and token: .venv/bin/python -m api.tokens USER_ID ROLE [TEAM], then",
            f"append the block it prints to {path}; or delete the file for new tokens next run.",
        ]
    )


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1].startswith("-"):
        print(__doc__, file=sys.stderr)
        return 2
    try:
        settings = read_settings()
    except SettingsRefused as err:
        print(f"settings refused: {err}", file=sys.stderr)
        return 2
    path = Path(argv[1])
    try:
        made = ensure_users_file(path, settings.api_host)
    except NotLoopback as err:
        print(f"no local users file: {err}", file=sys.stderr)
        return 3
    except OSError as err:
        print(f"cannot make the users file {path}: {err.strerror}", file=sys.stderr)
        return 2
    url = dashboard_url(settings.api_host, settings.api_port)
    print(kept_message(path, url) if made is None else made_message(path, url, made))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
