"""`python -m api.tokens USER_ID ROLE [TEAM]`: a new bearer token and its users-file entry.

Prints the token once (hand it to the user; it is stored nowhere) and the TOML block to add
to the users file, which keeps only the token's SHA-256 digest.
"""

import secrets
import sys

from pydantic import ValidationError

from api.auth import ApiRole, UserEntry, token_digest
from domain.errors import field_errors


def entry(user_id: str, role: ApiRole, team: str | None, token: str) -> str:
    lines = [f'[users."{user_id}"]', f'role = "{role.value}"']
    if team is not None:
        lines.append(f'team = "{team}"')
    lines.append(f'token_sha256 = "{token_digest(token)}"')
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if len(argv) not in (3, 4) or argv[2] not in ApiRole.__members__:
        print(__doc__, f"ROLE is one of: {', '.join(ApiRole)}", sep="\n", file=sys.stderr)
        return 64
    team = argv[3] if len(argv) == 4 else None
    try:
        user = UserEntry(role=ApiRole(argv[2]), team=team, token_sha256="0" * 64)
        user.identity(argv[1])
    except ValidationError as err:
        print("refused:", *field_errors(err), sep="\n  ", file=sys.stderr)
        return 64
    token = secrets.token_urlsafe(32)
    print(f"token (give it to {argv[1]}; it is not kept): {token}\n")
    print(entry(argv[1], user.role, team, token))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
