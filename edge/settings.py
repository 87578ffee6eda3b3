"""Settings, read once from the environment at the edge (prefix CSE_, plus Temporal's own).

`read_settings()` is how every entry point reads them: a bad value, or a CSE_ name that no
part of the service reads (a misspelling), is refused as `SettingsRefused`, one line naming
the variable (README "Settings").
"""

import difflib
import os
import re
from email.utils import parseaddr
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from domain.child_index import IndexKey
from domain.panel_schedule import parse_panel_meeting
from edge.codec import CodecKeyError, CodecKeys

# Values that mean "nobody set this": refused, so the service never runs on them.
_PLACEHOLDERS = {"", "changethis", "changeme", "change-me", "secret", "password", "placeholder"}
# A GOV.UK Notify API key: `<key name>-<service id>-<secret>`, both ids UUIDs.
_UUID = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_NOTIFY_KEY = re.compile(rf"\S+-{_UUID}-{_UUID}", re.IGNORECASE)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
# CSE_ variables read by scripts/run.sh alone (its data folder, the Web UI's port, and `1` to
# use .venv as it is): known names, though no Settings field reads them.
RUN_SCRIPT_NAMES = frozenset({"CSE_DATA_DIR", "CSE_UI_PORT", "CSE_SKIP_SETUP"})
INDEX_KEYS = "CSE_INDEX_KEYS"
TEAM_LENGTH = 200  # as a referral's `team` (domain/vocabulary.py's Name)


class Settings(BaseSettings):
    # hide_input_in_errors: a refused secret must not be echoed into logs.
    model_config = SettingsConfigDict(env_prefix="CSE_", extra="ignore", hide_input_in_errors=True)

    temporal_address: str = Field(
        "localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS", "CSE_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        "default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "CSE_TEMPORAL_NAMESPACE")
    )
    task_queue: str = "cse-referrals"
    policy_dir: Path | None = Path("policies")
    # The worker's record of every policy version it has seen (edge/policy_ledger.py): what
    # each said and when it was first seen. Shared by every worker of a deployment.
    policy_ledger: Path = Path("data/policy-ledger.json")
    outbox_file: Path = Path("data/outbox.jsonl")
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
    # Notifications (README "Notifications"): the directory of roles, email, webhooks.
    directory_file: Path | None = None
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = True
    notify_from: str | None = None
    webhook_secret: SecretStr | None = None
    # GOV.UK Notify: the key, the API (Notify's own unless a test points elsewhere), the
    # templates file, and whether email goes through Notify (else only text messages do).
    govuk_notify_api_key: SecretStr | None = None
    govuk_notify_base_url: str = "https://api.notifications.service.gov.uk"
    govuk_notify_templates: Path | None = None
    govuk_notify_email: bool = True
    # The HTTP API (README "HTTP API"): where it listens and who may call it.
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    users_file: Path = Path("config/users.example.toml")
    # How old (seconds) a case listing may be when served again; 0 reads visibility each time.
    api_listing_max_age: float = Field(2.0, ge=0, le=60)
    # Set the issuer to validate bearer tokens as OIDC JWTs instead of the users file.
    oidc_issuer: str | None = None
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_algorithm: str = "RS256"
    oidc_role_claim: str = "cse_role"
    oidc_team_claim: str = "cse_team"
    # The monthly panel (README "MASE panel"): its name (MASE, or MACE where it is widened),
    # when it meets, and the Temporal Schedule that runs it (its documents stay in its runs).
    panel_name: str = Field("MASE", pattern=r"^[A-Za-z0-9][A-Za-z0-9 &-]{0,39}$")
    panel_schedule: str = "first tuesday 09:00 Europe/London"
    panel_schedule_id: str = Field("mase-panel-monthly", pattern=r"^[A-Za-z0-9][\w.-]{0,99}$")
    # How long Temporal keeps a closed case (records period; 0 leaves the namespace as it is).
    case_retention_days: int = Field(27_394, ge=0, le=36_500)  # 75 years
    # The worker's footprint (README "Settings"): cases kept in memory between their tasks,
    # tasks run at once, and polls held open on the server for each kind of task.
    worker_cached_cases: int = Field(1000, ge=1, le=100_000)
    worker_concurrent_workflow_tasks: int = Field(100, ge=1, le=1000)
    worker_concurrent_activities: int = Field(100, ge=1, le=1000)
    worker_workflow_task_polls: int = Field(5, ge=2, le=100)  # the SDK needs 2 with a cache
    worker_activity_task_polls: int = Field(5, ge=1, le=100)
    # Sealed payloads (README "Encryption"): the keys, or plaintext asked for on purpose.
    codec_keys: SecretStr | None = None
    plaintext_payloads: bool = False
    # The child index (README "Encryption"), keys as CSE_CODEC_KEYS but never the same: the
    # first writes, all are searched. Unset, cases are not linked (loopback only).
    index_keys: SecretStr | None = None
    # The teams a case may be on, comma-separated and matched exactly (domain/teams.py).
    # Unset, any team is accepted (loopback only: edge/loopback.py).
    teams: Annotated[tuple[str, ...], NoDecode] = ()
    # The codec server's one allowed browser origin: the Temporal Web UI.
    codec_cors_origin: str = "http://127.0.0.1:8233"
    # Dashboard cookies carry Secure: always (true), never (false) or, unset, unless the API
    # listens on loopback (behind a TLS-terminating proxy the request itself is plain http).
    cookie_secure: bool | None = None
    # The keys sealing dashboard sessions in their cookies (README "Dashboard and command
    # line"), as CSE_CODEC_KEYS: the first seals, all open. Required unless on loopback.
    session_keys: SecretStr | None = None
    # Metrics (README "Metrics"): the worker's Prometheus endpoint on CSE_METRICS_HOST (unset
    # port: off), and the bearer token the API's /metrics asks for (unset: /metrics is off).
    metrics_port: int | None = Field(None, ge=1, le=65535)
    metrics_host: str = "127.0.0.1"
    metrics_token: SecretStr | None = None

    @model_validator(mode="before")
    @classmethod
    def _known_names_with_values(cls, data: object) -> object:
        """Refuse a CSE_ variable nothing reads (a misspelt one would be ignored silently),
        and an empty one that would not mean "unset" (an empty path is the current folder)."""
        environment = {name.upper(): value for name, value in os.environ.items()}
        known = known_names()
        problems = [
            unknown_name(name, known)
            for name in sorted(environment)
            if name.startswith("CSE_") and name not in known
        ]
        problems += [
            f"{name} is empty: give a value, or unset it for the default"
            for name in empty_means_nothing()
            if name in environment and not environment[name].strip()
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return data

    @field_validator("temporal_address")
    @classmethod
    def _host_and_port(cls, value: str) -> str:
        host, _, port = value.strip().rpartition(":")
        if not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"TEMPORAL_ADDRESS {value!r} is not host:port (localhost:7233)")
        return value.strip()

    @field_validator("log_level")
    @classmethod
    def _a_log_level(cls, value: str) -> str:
        if value.strip().upper() not in LOG_LEVELS:
            raise ValueError(
                f"CSE_LOG_LEVEL {value!r} is not a level: give {', '.join(LOG_LEVELS)}"
            )
        return value.strip().upper()

    @field_validator("public_url", "codec_cors_origin")
    @classmethod
    def _a_web_address(cls, value: str, info: ValidationInfo) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            name = f"CSE_{(info.field_name or '').upper()}"
            raise ValueError(f"{name} {value!r} is not a web address: give http(s)://host[:port]")
        return value

    @field_validator("smtp_password", "webhook_secret", "metrics_token")
    @classmethod
    def _real_secret(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        name = f"CSE_{(info.field_name or '').upper()}"
        if value is not None and value.get_secret_value().strip().lower() in _PLACEHOLDERS:
            raise ValueError(f"{name} is a placeholder: set a real secret")
        long_secret = info.field_name in ("webhook_secret", "metrics_token")
        if long_secret and value and len(value.get_secret_value()) < 16:
            raise ValueError(f"{name} must be at least 16 characters")
        return value

    @field_validator("govuk_notify_api_key")
    @classmethod
    def _a_notify_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        key = value.get_secret_value().strip()
        if key.lower() in _PLACEHOLDERS:
            raise ValueError("CSE_GOVUK_NOTIFY_API_KEY is a placeholder: set a real key")
        if not _NOTIFY_KEY.fullmatch(key):  # the message never repeats the key
            raise ValueError(
                "CSE_GOVUK_NOTIFY_API_KEY is not a GOV.UK Notify API key "
                "(<key name>-<service id>-<secret>, both ids UUIDs)"
            )
        return SecretStr(key)

    @field_validator("govuk_notify_base_url")
    @classmethod
    def _https_to_notify(cls, value: str) -> str:
        parts = urlsplit(value)
        loopback = parts.scheme == "http" and parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if not parts.hostname or not (parts.scheme == "https" or loopback):
            raise ValueError(f"CSE_GOVUK_NOTIFY_BASE_URL {value!r}: https:// (http:// to loopback)")
        return value.rstrip("/")

    @field_validator("codec_keys")
    @classmethod
    def _usable_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        CodecKeys.parse(value.get_secret_value())  # CodecKeyError names the item, not the key
        return value

    @field_validator("index_keys")
    @classmethod
    def _usable_index_keys(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        CodecKeys.parse(value.get_secret_value(), INDEX_KEYS)  # names the item, not the key
        return value

    @field_validator("teams", mode="before")
    @classmethod
    def _a_list_of_teams(cls, value: Any) -> tuple[str, ...]:
        items = value.split(",") if isinstance(value, str) else list(value)
        teams = tuple(str(item).strip() for item in items if str(item).strip())
        repeated = sorted({team for team in teams if teams.count(team) > 1})
        if repeated:
            raise ValueError(f"CSE_TEAMS names {', '.join(repeated)} more than once")
        if any(len(team) > TEAM_LENGTH for team in teams):
            raise ValueError(f"CSE_TEAMS: a team's name has at most {TEAM_LENGTH} characters")
        return teams

    def child_index_keys(self) -> list[IndexKey]:
        """The keys of CSE_INDEX_KEYS, the writing one first; none when it is unset."""
        if self.index_keys is None:
            return []
        keys = CodecKeys.parse(self.index_keys.get_secret_value(), INDEX_KEYS)
        return [IndexKey(key_id, secret) for key_id, secret in keys.keys.items()]

    def sealing_keys(self) -> CodecKeys | None:
        """The keys every client seals with; None only when plaintext was asked for."""
        if self.codec_keys is not None:
            return CodecKeys.parse(self.codec_keys.get_secret_value())
        if self.plaintext_payloads:
            return None
        raise CodecKeyError(
            "CSE_CODEC_KEYS is not set: children's data must be sealed before it reaches "
            "Temporal (scripts/run.sh makes data/codec-keys); set CSE_PLAINTEXT_PAYLOADS=true "
            "only to run without encryption on purpose"
        )

    @field_validator("notify_from")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError(f"CSE_NOTIFY_FROM {value!r} is not an email address")
        return value

    @field_validator("panel_schedule")
    @classmethod
    def _a_panel_meeting(cls, value: str) -> str:
        try:
            parse_panel_meeting(value)
        except ValueError as err:
            raise ValueError(f"CSE_PANEL_SCHEDULE: {err}") from None
        return value

    @model_validator(mode="after")
    def _email_is_complete(self) -> "Settings":
        if self.smtp_host and not (self.notify_from and self.directory_file):
            raise ValueError("CSE_SMTP_HOST needs CSE_NOTIFY_FROM and CSE_DIRECTORY_FILE")
        if self.codec_keys is not None and self.plaintext_payloads:
            raise ValueError("CSE_CODEC_KEYS and CSE_PLAINTEXT_PAYLOADS=true: choose one")
        if (self.smtp_username is None) != (self.smtp_password is None):
            raise ValueError("CSE_SMTP_USERNAME and CSE_SMTP_PASSWORD go together (or neither)")
        if self.govuk_notify_api_key is not None:
            self._notify_is_complete()
        if self._index_reuses_a_payload_key():
            raise ValueError(f"{INDEX_KEYS} reuses a key of CSE_CODEC_KEYS: give it its own")
        return self

    def _index_reuses_a_payload_key(self) -> bool:
        sealing = self.sealing_keys() if self.codec_keys is not None else None
        payload_keys = set(sealing.keys.values()) if sealing else set()
        return any(key.secret in payload_keys for key in self.child_index_keys())

    def _notify_is_complete(self) -> None:
        if not (self.govuk_notify_templates and self.directory_file):
            raise ValueError(
                "CSE_GOVUK_NOTIFY_API_KEY needs CSE_GOVUK_NOTIFY_TEMPLATES and CSE_DIRECTORY_FILE"
            )
        if self.govuk_notify_email and self.smtp_host:
            raise ValueError(
                "CSE_SMTP_HOST and GOV.UK Notify both send email: unset one, or set "
                "CSE_GOVUK_NOTIFY_EMAIL=false to use Notify for text messages only"
            )


class SettingsRefused(Exception):
    """The environment cannot be used; the message is one line naming each bad variable."""


def read_settings() -> Settings:
    """The settings of this process's environment; raises SettingsRefused naming what is bad."""
    try:
        return Settings()
    except ValidationError as err:
        raise SettingsRefused(refusal(err)) from None


def env_names() -> dict[str, str]:
    """Each Settings field's environment variable (its first alias, else CSE_ + its name)."""
    names = {}
    for field_name, field in Settings.model_fields.items():
        choices = getattr(field.validation_alias, "choices", None)
        names[field_name] = str(choices[0]) if choices else f"CSE_{field_name.upper()}"
    return names


def known_names() -> frozenset[str]:
    """Every CSE_ (and Temporal) variable some part of the service reads."""
    aliases = {
        str(choice)
        for field in Settings.model_fields.values()
        for choice in getattr(field.validation_alias, "choices", [])
    }
    return frozenset({*env_names().values(), *aliases, *RUN_SCRIPT_NAMES})


def empty_means_nothing() -> list[str]:
    """The variables an empty value cannot stand for: a default that is not "unset", or a
    path (an empty one is the current folder)."""
    return [
        env_names()[name]
        for name, field in Settings.model_fields.items()
        if field.default is not None or "Path" in str(field.annotation)
    ]


def unknown_name(name: str, known: frozenset[str]) -> str:
    nearest = difflib.get_close_matches(name, sorted(known), n=1)
    hint = f"did you mean {nearest[0]}?" if nearest else 'see README "Settings"'
    return f"{name} is not a setting: {hint}"


def refusal(err: ValidationError) -> str:
    """One line: each problem after the variable it is about (never the value of a secret)."""
    names = env_names()
    problems = []
    for error in err.errors():
        message = str(error["msg"]).removeprefix("Value error, ")
        name = names.get(str(error["loc"][0]), str(error["loc"][0])) if error["loc"] else ""
        problems.append(message if name in message else f"{name}: {message}")
    return "; ".join(problems)
