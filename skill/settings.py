"""Settings for the skill, read from HIP_HELPER_* environment variables.

Tests build a Settings directly; production reads `Settings.from_env()`.
"""
from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path

ENV_PREFIX = "HIP_HELPER_"
PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The skill id that development mode and the local simulator use when none is configured.
DEV_SKILL_ID = "amzn1.ask.skill.00000000-0000-4000-8000-000000000000"
# Never read from the environment: development mode only comes from `hip-helper serve --dev`,
# which also keeps it on loopback. An environment variable could switch it on under gunicorn.
CODE_ONLY = frozenset({"dev_mode"})


def production_db_path() -> Path:
    """Production's preferences file: one per machine account, outside any checkout."""
    return Path.home() / ".local/state/hip-helper/preferences.sqlite3"


# Development mode and `hip-helper chat` keep state in the checkout (ignored by git), so two clones
# never share preferences and a fresh clone never hears "Welcome back".
CHECKOUT_DB_PATH = PROJECT_ROOT / ".state" / "preferences.sqlite3"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is one line for the operator."""


@dataclass(frozen=True)
class Settings:
    # The Alexa skill id (amzn1.ask.skill.…); every request's applicationId must equal it.
    skill_id: str = ""
    # Development mode skips only the signature check, so local simulators can talk to the skill.
    dev_mode: bool = False
    content_dir: Path = PROJECT_ROOT / "content"
    model_dir: Path = PROJECT_ROOT / "interaction_model"
    # Embedded store for remembered preferences (never symptoms).
    # Unset: production_db_path(), or CHECKOUT_DB_PATH in development mode (see from_env).
    db_path: Path = field(default_factory=production_db_path)
    # "sqlite" (default) or "dynamodb"; dynamodb needs the [dynamodb] extra.
    store: str = "sqlite"
    dynamodb_table: str = "hip-helper-preferences"
    dynamodb_endpoint: str = ""
    # Certificate download limits: Alexa gives the whole request about 8 s.
    cert_fetch_timeout: float = 2.0
    cert_max_bytes: int = 64 * 1024
    # Outbound Alexa API calls (reminders, settings).
    api_timeout: float = 2.0
    # Every Alexa API call a request makes, together, must be done within this many seconds of
    # the handler starting, leaving time for the reply before gunicorn (6 s) and Alexa (8 s) give up.
    request_budget_seconds: float = 4.5
    # A CA bundle for Alexa's APIs instead of the system's (a test CA, a TLS-inspecting proxy).
    api_ca_bundle: str = ""
    # Where GET /privacy and /terms are public (https://host), for the manifest's links.
    public_base_url: str = ""
    # Who users write to about their data; named on the privacy and terms pages.
    contact_email: str = ""
    log_level: str = "INFO"
    # Key for the user pseudonym in logs (HMAC), so log ids can't be matched to store keys.
    # Unset: generated on first run and kept beside the preferences file.
    log_secret: str = ""

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None, **overrides) -> "Settings":
        """Read every field from HIP_HELPER_<FIELD>; keyword overrides win.

        Development mode without a configured db_path keeps preferences in the checkout.
        """
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            if f.name in CODE_ONLY:
                continue
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is None:
                continue
            values[f.name] = cls._convert(f.name, f.type, raw)
        values.update(overrides)
        if values.get("dev_mode") and "db_path" not in values:
            values["db_path"] = CHECKOUT_DB_PATH
        return cls(**values)

    @staticmethod
    def _convert(name: str, type_name: str, raw: str) -> object:
        try:
            if type_name == "int":
                return int(raw)
            if type_name == "float":
                return float(raw)
            if type_name == "Path":
                return Path(raw).expanduser()
        except ValueError as error:
            raise SettingsError(f"{ENV_PREFIX}{name.upper()}: {error}") from None
        return raw

    @property
    def verify_signature(self) -> bool:
        return not self.dev_mode

    def require_skill_id(self) -> None:
        """Production refuses to start without a skill id: every request would be rejected."""
        if not self.skill_id:
            raise SettingsError(
                f"no skill id configured: set {ENV_PREFIX}SKILL_ID to your skill's id "
                "(amzn1.ask.skill.…), or use --dev for local testing"
            )

    def log_pseudonym_key(self) -> bytes:
        """The configured log secret, else one generated once per deployment and kept on disk.

        Where nothing can be written (a read-only file system), a per-process key still keeps
        log ids unlinkable to store keys; they only stop matching across restarts.
        """
        if self.log_secret:
            return self.log_secret.encode("utf-8")
        path = self.db_path.parent / "log-secret"
        try:
            return bytes.fromhex(path.read_text().strip())
        except (OSError, ValueError):
            pass
        key = secrets.token_bytes(32)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "w") as file:
                file.write(key.hex())
        except FileExistsError:  # another worker wrote it first: use theirs
            try:
                return bytes.fromhex(path.read_text().strip())
            except (OSError, ValueError):
                return key
        except OSError:
            pass
        return key
