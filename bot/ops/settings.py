"""The App's settings: ``SSOT_*`` environment variables, also read from ``.env``.

Every problem a user can meet is reported as :class:`SettingsError`, whose message names the
variable to change (``SSOT_APP_ID: must be an integer``), so the commands print it and exit 2
instead of showing a pydantic traceback.
"""

from __future__ import annotations

import functools
import importlib.util
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

ENV_PREFIX = "SSOT_"
ENV_FILE = ".env"
GITHUB_API_URL = "https://api.github.com"
MAX_WEBHOOK_BYTES = 25 * 1024 * 1024  # GitHub caps payloads at 25 MB

_PEM_MARKER = "-----BEGIN"
MIN_SESSION_SECRET = 32


class SettingsError(Exception):
    """Settings a user must fix; ``str()`` is one line per problem, each naming the variable."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


def env_name(field: str) -> str:
    """The environment variable of a settings field: ``app_id`` -> ``SSOT_APP_ID``."""
    return ENV_PREFIX + field.upper()


class Settings(BaseSettings):
    """What ``ssot serve`` and ``ssot worker`` need: each field is ``SSOT_<FIELD>``."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=ENV_FILE,
        env_file_encoding="utf-8",
        extra="ignore",
        env_ignore_empty=True,  # SSOT_APP_ID= in .env means unset, not "not an integer"
        validate_default=True,
    )

    # The App's credentials (written to .env by the setup page). Without app_id the web app
    # serves the setup page instead of the status page.
    app_id: int | None = None
    private_key: SecretStr | None = None
    private_key_path: Path | None = None
    webhook_secret: SecretStr | None = None
    client_id: str | None = None
    client_secret: SecretStr | None = None

    # GitHub: the REST API base; GitHub Enterprise Server is https://HOST/api/v3.
    github_url: str = GITHUB_API_URL
    # Where people click (the manifest form posts here); derived from github_url when unset.
    github_web_url: str | None = None
    # The URL GitHub reaches this server at (webhook and redirect URLs of the manifest);
    # unset: the URL the setup page was opened at.
    public_url: str | None = None
    # Seals the dashboard's sign-in cookies (encrypted and signed). Unset: generated once and
    # kept in <data_dir>/session.key; replicas behind one load balancer need the same value.
    session_secret: SecretStr | None = None
    # How long a sign-in lasts at most (GitHub's user tokens last 8 hours).
    session_hours: float = Field(default=8.0, gt=0, le=24 * 30)

    # State and jobs.
    data_dir: Path = Path(".ssot")
    database_url: str = ""  # empty: sqlite:///<data_dir>/ssot.db
    redis_url: str | None = None  # set: jobs on Redis instead of <data_dir>/jobs.db
    workers: int = Field(default=2, ge=1, le=64)
    job_lease_seconds: int = Field(default=600, ge=1)
    job_max_attempts: int = Field(default=5, ge=1)
    # How often each worker enqueues again the deliveries no job took (a lost queue, a dead
    # worker whose lease passed).
    sweep_seconds: float = Field(default=60.0, ge=0.5)
    # First wait before a failed job runs again; it doubles per attempt, up to an hour.
    job_retry_seconds: float = Field(default=30.0, gt=0)
    # The job queue's name (Huey's, hence its Redis keys): two deployments sharing one Redis
    # database need different names.
    queue_name: str = Field(default="ssot", min_length=1, max_length=64, pattern=r"^[\w.:-]+$")

    # GitHub's budget of content-creating calls per installation (its secondary rate limits:
    # 80 a minute, 500 an hour); 0 turns a budget off (GitHub Enterprise Server without them).
    github_writes_per_minute: int = Field(default=80, ge=0)
    github_writes_per_hour: int = Field(default=500, ge=0)
    # The share of that budget consolidation campaigns may use; the rest is kept for checks.
    campaign_write_share: float = Field(default=0.5, gt=0, le=1)
    # One pull request's analysis, in a child process killed past either bound.
    analysis_seconds: float = Field(default=120.0, gt=0)
    analysis_memory_mb: int = Field(default=1024, ge=64)
    # Repositories ("owner/name") a policy's `extends` may name besides the organisation's
    # .github (JSON list in the environment: SSOT_POLICY_EXTENDS_ALLOW='["acme/policies"]').
    policy_extends_allow: list[str] = Field(default_factory=list)
    # The largest file a policy's max_file_size may ask the App to read and analyse.
    max_file_size: int = Field(default=2_000_000, ge=1)
    # The most a policy's [campaign] may ask: files per pull request, pull requests open at
    # once and opened per hour, in one repository.
    campaign_max_files: int = Field(default=100, ge=1)
    campaign_max_open: int = Field(default=10, ge=1)
    campaign_max_per_hour: int = Field(default=10, ge=1)
    # Set: /metrics and the status page answer only `Authorization: Bearer <token>`.
    status_token: SecretStr | None = None
    # Reactions and replies to one person's /ssot commands in one repository, per hour.
    command_answers_per_hour: int = Field(default=20, ge=1)

    # Progress: a new repository's history is backfilled with this many weekly samples (0:
    # none), never leaving the installation fewer than `backfill_reserve` requests of its
    # hourly rate limit and spending at most `backfill_requests_per_minute` a minute.
    backfill_weeks: int = Field(default=26, ge=0, le=520)
    backfill_reserve: int = Field(default=1000, ge=0)
    backfill_requests_per_minute: int = Field(default=60, ge=1)
    # The dashboard issue is edited at most once per this many seconds per repository.
    dashboard_debounce_seconds: float = Field(default=600.0, ge=0)

    max_webhook_bytes: int = Field(default=MAX_WEBHOOK_BYTES, gt=0)
    neutral_without_policy: bool = False

    @field_validator("github_url", "github_web_url", "public_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL, e.g. https://api.github.com")
        return value.rstrip("/")

    @field_validator("private_key")
    @classmethod
    def _pem(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        # A PEM in a single-line environment variable usually arrives with literal "\n".
        text = value.get_secret_value().replace("\\n", "\n").strip() + "\n"
        if _PEM_MARKER not in text:
            raise ValueError("not a PEM private key (expected '-----BEGIN ... PRIVATE KEY-----')")
        return SecretStr(text)

    @field_validator("webhook_secret", "client_secret")
    @classmethod
    def _empty_secret_is_unset(cls, value: SecretStr | None) -> SecretStr | None:
        return value if value is not None and value.get_secret_value() else None

    @field_validator("session_secret")
    @classmethod
    def _long_session_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if len(value.get_secret_value()) < MIN_SESSION_SECRET:
            raise ValueError(
                f"at least {MIN_SESSION_SECRET} characters, e.g. the output of "
                "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
            )
        return value

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str) -> str:
        if value:
            try:
                make_url(value)
            except ArgumentError:
                raise ValueError(
                    "not a database URL (e.g. sqlite:///./.ssot/ssot.db or "
                    "postgresql+psycopg://user@host/db)"
                ) from None
        return value

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if urlsplit(value).scheme not in ("redis", "rediss", "unix"):
            raise ValueError("must be a redis:// URL, e.g. redis://127.0.0.1:6379/0")
        if importlib.util.find_spec("redis") is None:
            raise ValueError("needs the 'redis' Python package: pip install redis")
        return value

    @model_validator(mode="after")
    def _credentials_and_defaults(self) -> Settings:
        if self.private_key is not None and self.private_key_path is not None:
            raise ValueError(
                "SSOT_PRIVATE_KEY_PATH: set either SSOT_PRIVATE_KEY or SSOT_PRIVATE_KEY_PATH, not both"
            )
        if self.private_key_path is not None and not self.private_key_path.is_file():
            raise ValueError(f"SSOT_PRIVATE_KEY_PATH: no such file: {self.private_key_path}")
        has_key = self.private_key is not None or self.private_key_path is not None
        if self.app_id is None and has_key:
            raise ValueError("SSOT_APP_ID: required when a private key is set")
        if self.app_id is not None:
            if not has_key:
                raise ValueError(
                    "SSOT_PRIVATE_KEY: required when SSOT_APP_ID is set "
                    "(or SSOT_PRIVATE_KEY_PATH, a .pem file)"
                )
            if self.webhook_secret is None:
                raise ValueError("SSOT_WEBHOOK_SECRET: required when SSOT_APP_ID is set")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.data_dir / 'ssot.db'}"
        return self

    @property
    def has_credentials(self) -> bool:
        """Whether the App exists: without it the web app offers the setup page."""
        return self.app_id is not None

    @property
    def can_sign_in(self) -> bool:
        """Whether people can sign in to the dashboard: the App's OAuth client is known, and
        the address GitHub sends them back to (``public_url``; never taken from a request)."""
        return (
            self.client_id is not None
            and self.client_secret is not None
            and self.public_url is not None
        )

    @property
    def web_url(self) -> str:
        """GitHub's web URL: github.com for api.github.com, https://HOST for a GHES API URL."""
        if self.github_web_url:
            return self.github_web_url
        parts = urlsplit(self.github_url)
        if parts.netloc == "api.github.com":
            return "https://github.com"
        path = parts.path.rstrip("/")
        if path.endswith("/api/v3"):
            path = path[: -len("/api/v3")]
        return f"{parts.scheme}://{parts.netloc}{path}"

    def private_key_pem(self) -> str | None:
        """The App's private key, read from the file when given as a path."""
        if self.private_key is not None:
            return self.private_key.get_secret_value()
        if self.private_key_path is not None:
            return self.private_key_path.read_text(encoding="utf-8")
        return None


_MESSAGES = {
    "int_parsing": "must be an integer",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "bool_parsing": "must be true or false",
    "bool_type": "must be true or false",
    "path_type": "must be a path",
    "string_type": "must be text",
}


def _describe(error: Any) -> str:
    loc = error.get("loc") or ()
    message = str(error.get("msg", "invalid"))
    if not loc:
        # Cross-field checks above already name their variable.
        return message.removeprefix("Value error, ")
    name = env_name(str(loc[0]))
    kind = error.get("type", "")
    if kind in _MESSAGES:
        text = _MESSAGES[kind]
    elif kind == "value_error":
        text = message.removeprefix("Value error, ")
    elif kind in ("greater_than", "greater_than_equal", "less_than_equal", "less_than"):
        text = message.replace("Input should be", "must be")
    else:
        text = message
    return f"{name}: {text}"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings (``overrides`` first, then the environment, then ``.env``).

    Raises :class:`SettingsError` naming each variable that is missing or invalid.
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        raise SettingsError([_describe(error) for error in exc.errors()]) from None


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read once (``get_settings.cache_clear()`` to read again)."""
    return load_settings()
