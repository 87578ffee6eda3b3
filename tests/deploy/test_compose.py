"""docker-compose.yml, checked without Docker: valid under the Compose Specification's JSON
schema (deploy/compose-spec.schema.json, kept as data), and true to the project: every command
it runs exists in the image, every CSE_ setting it sets exists in edge/settings.py and passes
its checks, the secrets the services cannot start without are demanded with `${VAR:?...}`, every
file it mounts is in the repository, and workers and API replicas scale. Prometheus scrapes the
services as compose runs them, and Grafana is provisioned with that Prometheus and the dashboard.

Compose's variable interpolation (`$$`, `${VAR}`, `${VAR:-default}`, `${VAR:?error}` ...) is
applied here as `docker compose` applies it, so the file is judged as it would run.
"""

from __future__ import annotations

import importlib.util
import json
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import jsonschema_rs
import pytest
import yaml  # type: ignore[import-untyped]  # PyYAML ships no types; no types-PyYAML here

from edge.codec import new_key_item
from edge.loopback import deployment_problem
from edge.settings import Settings

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "docker-compose.yml"
SCHEMA = REPO / "deploy" / "compose-spec.schema.json"
OURS = ("worker", "api")  # the services built from this repository's Dockerfile
SECRETS = {
    "TEMPORAL_DB_PASSWORD": "a-database-password-for-tests",
    "CSE_CODEC_KEYS": new_key_item("compose-1"),
    "CSE_METRICS_TOKEN": "a-metrics-token-for-tests",
    "CSE_SESSION_KEYS": new_key_item("sessions-1"),
    "CSE_INDEX_KEYS": new_key_item("index-1"),
    "CSE_TEAMS": "TEAM-A,TEAM-B",
    "GRAFANA_ADMIN_PASSWORD": "a-grafana-password-for-tests",
}
# Without these the service refuses to start (edge/settings.py; beyond loopback, as compose
# runs them, edge/loopback.py): the file must demand them.
BEYOND_LOOPBACK = {"CSE_INDEX_KEYS", "CSE_TEAMS"}
REQUIRED = {
    "worker": {"CSE_CODEC_KEYS", *BEYOND_LOOPBACK},
    # CSE_SESSION_KEYS: dashboard sessions any replica can read (required off loopback).
    "api": {"CSE_CODEC_KEYS", "CSE_METRICS_TOKEN", "CSE_SESSION_KEYS", *BEYOND_LOOPBACK},
}


# ---- Compose's interpolation --------------------------------------------------------------

_VARIABLE = re.compile(
    r"\$(?:(?P<dollar>\$)"
    r"|\{(?P<name>[A-Za-z_]\w*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_]\w*))"
)


class MissingVariable(LookupError):
    """A `${VAR:?message}` whose variable is unset (or empty): compose stops with the message."""


def interpolate(text: str, env: Mapping[str, str]) -> str:
    def one(match: re.Match[str]) -> str:
        if match["dollar"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        value = env.get(name)
        missing = value is None or (op is not None and op.startswith(":") and value == "")
        if op in ("-", ":-"):
            return arg if missing else str(value)
        if op in ("?", ":?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return str(value)
        if op in ("+", ":+"):
            return "" if missing else arg
        return value or ""

    return _VARIABLE.sub(one, text)


def resolved(node: Any, env: Mapping[str, str]) -> Any:
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [resolved(item, env) for item in node]
    if isinstance(node, dict):
        return {key: resolved(value, env) for key, value in node.items()}
    return node


def raw_compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    return loaded


def compose(env: Mapping[str, str] = SECRETS) -> dict[str, Any]:
    """The file as `docker compose config` would read it with `env` as the environment."""
    project: dict[str, Any] = resolved(raw_compose(), env)
    return project


def service_env(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    return {name: str(value) for name, value in environment.items()}


def setting_names() -> set[str]:
    """Every environment variable edge/settings.py reads."""
    names: set[str] = set()
    for field_name, field in Settings.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names.update(str(choice) for choice in choices)
        else:
            names.add(f"CSE_{field_name.upper()}")
    return names


# ---- the specification ----------------------------------------------------------------------


def test_the_file_is_valid_under_the_compose_specification() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    validator = jsonschema_rs.Draft201909Validator(schema)
    problems = [
        f"{'/'.join(map(str, e.instance_path))}: {e.message}"
        for e in validator.iter_errors(raw_compose())
    ]
    assert problems == []
    assert validator.is_valid(compose())  # and still, once interpolated


def test_the_schema_rejects_what_compose_would() -> None:
    """The schema is live, not a file that accepts anything."""
    validator = jsonschema_rs.Draft201909Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    project = raw_compose()
    project["services"]["worker"]["depends_on"]["temporal-namespace"]["condition"] = "started"
    assert not validator.is_valid(project)
    project = raw_compose()
    project["services"]["worker"]["restart_when"] = "always"
    assert not validator.is_valid(project)


# ---- secrets fail fast ------------------------------------------------------------------------


@pytest.mark.parametrize("secret", sorted(SECRETS))
def test_compose_stops_naming_a_missing_secret(secret: str) -> None:
    for absent in ({k: v for k, v in SECRETS.items() if k != secret}, SECRETS | {secret: ""}):
        with pytest.raises(MissingVariable, match=secret):
            compose(absent)


@pytest.mark.parametrize("name", OURS)
def test_the_settings_a_service_cannot_start_without_are_demanded(name: str) -> None:
    environment = service_env(raw_compose()["services"][name])
    for variable in REQUIRED[name]:
        assert re.fullmatch(rf"\$\{{{variable}:\?[^}}]+\}}", environment.get(variable, "")), (
            f"{name} must take {variable} as ${{{variable}:?<what to set>}}"
        )
    assert environment.get("CSE_PLAINTEXT_PAYLOADS", "false") == "false"


# ---- settings and commands are the project's --------------------------------------------------


@pytest.mark.parametrize("name", OURS)
def test_every_setting_a_service_is_given_exists(name: str) -> None:
    environment = service_env(compose()["services"][name])
    unknown = sorted(set(environment) - setting_names())
    assert unknown == [], f"{name} sets what edge/settings.py never reads: {unknown}"


@pytest.mark.parametrize("name", OURS)
def test_a_service_s_settings_pass_the_service_s_own_checks(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in setting_names():
        monkeypatch.delenv(variable, raising=False)
    environment = service_env(compose()["services"][name])
    for variable, value in environment.items():
        monkeypatch.setenv(variable, value)
    settings = Settings()
    assert settings.sealing_keys() is not None  # sealed, never plaintext
    assert settings.temporal_address == "temporal:7233"
    assert deployment_problem(settings) is None  # teams and index keys, beyond loopback
    assert settings.teams == ("TEAM-A", "TEAM-B")


def dockerfile_copies() -> set[str]:
    """What the Dockerfile copies into /app (the sources of its COPY lines)."""
    copied = set()
    for line in (REPO / "Dockerfile").read_text(encoding="utf-8").splitlines():
        words = line.split()
        if words[:1] == ["COPY"] and not any(w.startswith("--from") for w in words):
            copied.update(words[1:-1])
    return copied


def console_scripts() -> set[str]:
    with (REPO / "pyproject.toml").open("rb") as toml:
        return set(tomllib.load(toml)["project"]["scripts"])


def command_problems(command: list[str]) -> list[str]:
    """Why `command` would not run in the project's image (nothing if it would)."""
    copied = dockerfile_copies()
    if command[0] in console_scripts():
        return []
    if command[0] != "python":
        return [f"{command}: neither python nor a console script of pyproject.toml"]
    if command[1] == "-m":
        module = command[2]
        if importlib.util.find_spec(module) is None:
            return [f"{command}: no module {module}"]
        return [] if module.split(".")[0] in copied else [f"{command}: {module} is not copied"]
    if command[1] == "-c":
        return []
    path = REPO / command[1]
    if not path.is_file():
        return [f"{command}: no file {command[1]}"]
    return [] if command[1] in copied else [f"{command}: {command[1]} is not in the image"]


@pytest.mark.parametrize("name", OURS)
def test_every_command_a_service_runs_exists_in_the_image(name: str) -> None:
    service = compose()["services"][name]
    assert service["build"] == "."
    commands = [service["command"]]
    if "healthcheck" in service:
        commands.append(service["healthcheck"]["test"][1:])  # after CMD
    problems = [p for command in commands for p in command_problems(command)]
    assert problems == []


def test_command_problems_are_found() -> None:
    assert command_problems(["python", "worker.py"]) == []
    assert command_problems(["python", "-m", "api"]) == []
    assert command_problems(["cse", "cases"]) == []
    assert command_problems(["python", "workers.py"]) != []
    assert command_problems(["python", "-m", "apis"]) != []
    assert command_problems(["python", "-m", "bench"]) != []  # not in the image
    assert command_problems(["gunicorn", "api"]) != []


def test_every_file_it_mounts_is_in_the_repository() -> None:
    """Bind mounts from this folder (the defaults, as a fresh checkout runs them)."""
    missing = []
    for name, service in compose()["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume["source"]
            if source.startswith("./") and not (REPO / source).exists():
                missing.append(f"{name}: {source}")
    assert missing == []


# ---- how it runs ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OURS)
def test_workers_and_api_replicas_scale(name: str) -> None:
    """`--scale worker=N` / `--scale api=N`: no fixed name, no host port to collide on."""
    service = compose()["services"][name]
    assert "container_name" not in service
    assert "ports" not in service
    assert service["deploy"]["replicas"] >= 2


def test_every_dependency_waits_for_health_or_completion() -> None:
    services = compose()["services"]
    for name, service in services.items():
        for target, needs in service.get("depends_on", {}).items():
            condition = needs["condition"]
            assert condition in ("service_healthy", "service_completed_successfully"), name
            if condition == "service_healthy":
                assert "healthcheck" in services[target], f"{name} waits on {target}'s health"
            else:
                assert "command" in services[target], f"{target} is a job that exits"


def test_every_image_is_pinned_with_a_reason() -> None:
    lines = COMPOSE.read_text(encoding="utf-8").splitlines()
    explained: dict[str, bool] = {}
    for number, line in enumerate(lines):
        image = re.fullmatch(r"\s+image: (\S+)", line)
        if image:
            repository, _, tag = image[1].partition(":")
            assert re.match(r"v?\d+\.\d+", tag), f"{image[1]}: pin a version, not {tag!r}"
            commented = lines[number - 1].strip().startswith("#")
            explained[repository] = explained.get(repository, False) or commented
    assert explained
    assert all(explained.values()), f"an image line with no comment above it: {explained}"


def test_the_web_ui_reads_cases_through_the_api_s_codec_server() -> None:
    from api.routes.codec import PREFIXES  # here: the rest of the file needs no API import

    services = compose()["services"]
    ui = service_env(services["temporal-ui"])
    api = service_env(services["api"])
    endpoint = urlsplit(ui["TEMPORAL_CODEC_ENDPOINT"])
    assert endpoint.path in PREFIXES
    assert endpoint.path.startswith("/dashboard")  # the cookie session's, not the bearer one
    assert f"{endpoint.scheme}://{endpoint.netloc}" == api["CSE_PUBLIC_URL"]
    assert ui["TEMPORAL_CODEC_INCLUDE_CREDENTIALS"] == "true"
    published = services["temporal-ui"]["ports"][0].rsplit(":", 1)[0]  # 127.0.0.1:8233
    assert api["CSE_CODEC_CORS_ORIGIN"] == f"http://{published}"
    proxy = services["proxy"]["ports"][0].rsplit(":", 1)[0]
    assert urlsplit(api["CSE_PUBLIC_URL"]).netloc == proxy


def test_no_secret_is_written_in_the_file() -> None:
    """A setting named as a secret is always taken from the environment, never written here."""
    secret = re.compile(r"PASSWORD|PWD|SECRET|TOKEN|KEYS?$")
    written = [
        f"{name}: {variable}"
        for name, service in raw_compose()["services"].items()
        for variable, value in service_env(service).items()
        if secret.search(variable) and not re.fullmatch(r"\$\{[A-Z_]+:\?[^}]+\}", value)
    ]
    assert written == []


# ---- monitoring: Prometheus and Grafana --------------------------------------------------------


def mounts(service: dict[str, Any]) -> dict[str, str]:
    """A service's bind mounts from this folder: where in the container -> what here."""
    found = {}
    for volume in service.get("volumes", []):
        source, target, *_ = volume.split(":")
        if source.startswith("./"):
            found[target] = source.removeprefix("./")
    return found


def test_prometheus_scrapes_the_services_where_compose_runs_them() -> None:
    services = compose()["services"]
    prometheus = services["prometheus"]
    mounted = mounts(prometheus)
    config_file = mounted["/etc/prometheus/prometheus.yml"]
    config = yaml.safe_load((REPO / config_file).read_text(encoding="utf-8"))
    for rules in config["rule_files"]:  # relative to the configuration, in the container too
        assert mounted[f"/etc/prometheus/{rules}"] == f"deploy/prometheus/{rules}"
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    served = {
        "cse-worker": ("worker", service_env(services["worker"])["CSE_METRICS_PORT"]),
        "cse-api": ("api", service_env(services["api"])["CSE_API_PORT"]),
    }
    for job, (service, port) in served.items():
        (found,) = jobs[job]["dns_sd_configs"]
        assert found["names"] == [service]
        assert str(found["port"]) == port
    token = jobs["cse-api"]["authorization"]["credentials_file"]
    assert token in {secret["target"] for secret in prometheus["secrets"]}


def grafana_provisioning(kind: str) -> dict[str, Any]:
    """The one provisioning file of `kind` compose mounts into Grafana."""
    folder = mounts(compose()["services"]["grafana"])[f"/etc/grafana/provisioning/{kind}"]
    (only,) = (REPO / folder).glob("*.yml")
    provisioning: dict[str, Any] = yaml.safe_load(only.read_text(encoding="utf-8"))
    assert provisioning["apiVersion"] == 1
    return provisioning


def test_grafana_reads_the_compose_prometheus() -> None:
    services = compose()["services"]
    (source,) = grafana_provisioning("datasources")["datasources"]
    assert source["type"] == "prometheus"
    assert source["isDefault"] is True  # what the dashboard's `datasource` variable picks
    url = urlsplit(source["url"])
    assert url.hostname in services
    assert url.hostname == "prometheus"
    published = services["prometheus"]["ports"][0]  # 127.0.0.1:9090:9090
    assert url.port == int(published.rsplit(":", 1)[1])
    assert not {"basicAuth", "secureJsonData", "basicAuthPassword"} & set(source)
    assert "grafana" not in services["prometheus"].get("depends_on", {})
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"


def test_grafana_shows_the_repository_s_dashboard() -> None:
    grafana = compose()["services"]["grafana"]
    (provider,) = grafana_provisioning("dashboards")["providers"]
    assert provider["type"] == "file"
    assert provider["allowUiUpdates"] is False  # the repository's file is the dashboard
    folder = provider["options"]["path"]
    dashboards = {t: s for t, s in mounts(grafana).items() if t.startswith(f"{folder}/")}
    assert list(dashboards.values()) == ["deploy/grafana/cse-dashboard.json"]
    home = service_env(grafana)["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    assert home in dashboards
    dashboard = json.loads((REPO / "deploy/grafana/cse-dashboard.json").read_text("utf-8"))
    (variable,) = dashboard["templating"]["list"]
    assert variable == variable | {"name": "datasource", "type": "datasource"}
    assert variable["query"] == "prometheus"
    used = {
        target["datasource"]["uid"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
    }
    assert used == {"${datasource}"}


def test_grafana_lets_in_only_its_admin_on_loopback() -> None:
    grafana = compose()["services"]["grafana"]
    environment = service_env(grafana)
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    assert environment["GF_USERS_ALLOW_SIGN_UP"] == "false"
    assert environment["GF_SECURITY_ADMIN_PASSWORD"] == SECRETS["GRAFANA_ADMIN_PASSWORD"]
    assert [port.rsplit(":", 2)[0] for port in grafana["ports"]] == ["127.0.0.1"]
