"""commit-msg hook: a subject of at most 72 characters, then a blank line before the body.

`git log --oneline` shows the subject alone, so it must say what changed in a line; the why
goes in the body (`git commit -m "<subject>" -m "<why>"`). Run by pre-commit as
`python scripts/check_commit_msg.py <message file>`: exit 0, or 1 and why on stderr.
Lines git strips (`#` comments, everything below the scissors line) are not counted.
"""

from __future__ import annotations

import sys
from pathlib import Path

LIMIT = 72
SCISSORS = "# ------------------------ >8 ------------------------"


def message_lines(text: str) -> list[str]:
    """The lines git keeps: up to the scissors line, without comments."""
    kept = text.split(SCISSORS, 1)[0].splitlines()
    return [line.rstrip() for line in kept if not line.startswith("#")]


def problems(text: str) -> list[str]:
    """What is wrong with a commit message, in words for its author; none when it is fine."""
    lines = message_lines(text)
    while lines and not lines[0]:
        lines.pop(0)
    if not lines:
        return ["the message is empty: give a subject line"]
    subject = lines[0]
    found: list[str] = []
    if len(subject) > LIMIT:
        found.append(
            f"the subject is {len(subject)} characters, over {LIMIT}: `git log --oneline` "
            "cuts it; say what changed in one short line and put the why in the body"
        )
    if len(lines) > 1 and lines[1]:
        found.append(
            "no blank line after the subject: git takes every line up to the first blank "
            "one as the subject; leave line 2 empty (`git commit -m <subject> -m <body>`)"
        )
    return found


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: check_commit_msg.py <commit message file>", file=sys.stderr)
        return 2
    found = problems(Path(argv[1]).read_text(encoding="utf-8"))
    for problem in found:
        print(f"commit message refused: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
