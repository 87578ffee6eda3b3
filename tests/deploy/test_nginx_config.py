"""deploy/nginx/nginx.conf, checked by Debian's `nginx -t` (scripts/setup.sh installs it) in the
copy tests/e2e/test_nginx_e2e.py runs, and true to the compose file: the proxy listens where
compose publishes it and sends to the port the API replicas serve on."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.deploy.nginx_conf import DEPLOYED, LISTEN, UPSTREAM, command, local_conf
from tests.deploy.test_compose import compose, service_env


def nginx_test(conf: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command(conf, "-t"), capture_output=True, text=True, timeout=30)


def test_nginx_accepts_the_configuration(tmp_path: Path) -> None:
    conf = local_conf(tmp_path, ["127.0.0.1:1", "127.0.0.1:2"], 8000)
    done = nginx_test(conf)
    assert done.returncode == 0, done.stderr
    assert "test is successful" in done.stderr


def test_nginx_refuses_a_broken_configuration(tmp_path: Path) -> None:
    conf = local_conf(tmp_path, ["127.0.0.1:1"], 8000)
    conf.write_text(conf.read_text().replace("proxy_pass http://api;", "proxy_pass http://api"))
    assert nginx_test(conf).returncode != 0


def test_the_copy_differs_from_the_deployed_file_only_where_it_must(tmp_path: Path) -> None:
    conf = local_conf(tmp_path, ["127.0.0.1:1", "127.0.0.1:2"], 8001).read_text()
    deployed = DEPLOYED.read_text().splitlines()
    kept = [line for line in deployed if line not in conf.splitlines()]
    assert [line.strip() for line in kept] == [
        "pid /tmp/nginx.pid;",
        "server api:8000 resolve;",
        "listen 8000;",
    ]


def test_the_proxy_sends_to_the_api_replicas_where_compose_runs_them() -> None:
    services = compose()["services"]
    text = DEPLOYED.read_text()
    assert UPSTREAM.search(text), "the upstream is the `api` service's replicas, port 8000"
    assert service_env(services["api"])["CSE_API_PORT"] == "8000"
    assert LISTEN.search(text), "the proxy listens on 8000"
    published = services["proxy"]["ports"][0]  # 127.0.0.1:8000:8000
    assert published.rsplit(":", 1)[1] == "8000"
    mounted = [v for v in services["proxy"]["volumes"] if v.endswith(":/etc/nginx/nginx.conf:ro")]
    assert mounted == ["./deploy/nginx/nginx.conf:/etc/nginx/nginx.conf:ro"]
