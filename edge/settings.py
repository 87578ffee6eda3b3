"""Settings, read once from the environment at the edge (prefix CSE_, plus Temporal's own)."""

from pathlib import Path

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CSE_", extra="ignore")

    temporal_address: str = Field(
        "localhost:7233", validation_alias=AliasChoices("TEMPORAL_ADDRESS", "CSE_TEMPORAL_ADDRESS")
    )
    temporal_namespace: str = Field(
        "default", validation_alias=AliasChoices("TEMPORAL_NAMESPACE", "CSE_TEMPORAL_NAMESPACE")
    )
    task_queue: str = "cse-referrals"
    policy_dir: Path | None = Path("policies")
    outbox_file: Path = Path("data/outbox.jsonl")
    public_url: str = "http://127.0.0.1:8000"
    log_level: str = "INFO"
