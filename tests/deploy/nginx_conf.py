"""deploy/nginx/nginx.conf made runnable by Debian's `nginx` on this machine, as the current user:
the compose network's upstream (`server api:8000 resolve`, Docker's DNS) becomes the API
processes' loopback ports, and the listen address, pid file, logs and temporary files move into
a folder of the test's. Every other line is the deployed file's.

Debian 12's nginx is 1.22: `resolve` on an upstream server is open-source nginx's from 1.27.3
(the compose file runs 1.28), so the copy names fixed ports, which is what `resolve` finds in
compose anyway.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DEPLOYED = REPO / "deploy" / "nginx" / "nginx.conf"
NGINX = Path(shutil.which("nginx") or "/usr/sbin/nginx")
UPSTREAM = re.compile(r"^(?P<indent>\s*)server api:8000 resolve;$", re.MULTILINE)
LISTEN = re.compile(r"^(?P<indent>\s*)listen 8000;$", re.MULTILINE)
PID = re.compile(r"^pid \S+;$", re.MULTILINE)
HTTP = re.compile(r"^http \{$", re.MULTILINE)
TEMPORARY = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")


def nginx() -> Path:
    if not NGINX.exists():
        pytest.fail(
            f"no nginx at {NGINX}: run `bash scripts/setup.sh` (it installs Debian's `nginx` "
            "as root), or `apt-get install -y --no-install-recommends nginx`",
            pytrace=False,
        )
    return NGINX


def one(pattern: re.Pattern[str], lines: list[str], text: str) -> str:
    """`text` with the one match of `pattern` replaced by `lines`, at its indentation."""

    def replaced(match: re.Match[str]) -> str:
        indent = match.groupdict().get("indent") or ""
        return "\n".join(indent + line for line in lines)

    changed, count = pattern.subn(replaced, text)
    assert count == 1, f"deploy/nginx/nginx.conf has not one {pattern.pattern!r}"
    return changed


def local_conf(folder: Path, replicas: list[str], port: int) -> Path:
    """The copy in `folder`, proxying 127.0.0.1:`port` to `replicas` (host:port each)."""
    text = DEPLOYED.read_text(encoding="utf-8")
    text = one(UPSTREAM, [f"server {replica};" for replica in replicas], text)
    text = one(LISTEN, [f"listen 127.0.0.1:{port};"], text)
    text = one(PID, [f"pid {folder / 'nginx.pid'};"], text)
    temporary = [f"    {kind}_temp_path {folder / kind};" for kind in TEMPORARY]
    text = one(HTTP, ["http {", *temporary], text)
    # In the foreground, logging into the folder. As root, the workers stay this user (not
    # `nobody`, who cannot write into the test's folder); as anyone else they are that user.
    head = ["daemon off;", f"error_log {folder / 'error.log'} notice;"]
    if os.geteuid() == 0:
        head.append(f"user {pwd.getpwuid(os.geteuid()).pw_name};")
    conf = folder / "nginx.conf"
    conf.write_text("\n".join(head) + "\n" + text, encoding="utf-8")
    return conf


def command(conf: Path, *extra: str) -> list[str]:
    """`nginx` with `conf` (made by local_conf), its prefix and error log in conf's folder."""
    folder = conf.parent
    return [
        str(nginx()),
        "-p",
        f"{folder}/",
        "-c",
        str(conf),
        "-e",
        str(folder / "error.log"),
        *extra,
    ]
