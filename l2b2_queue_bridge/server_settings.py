"""Settings of the embedded appointment server (``config/appointment_server.yaml``), validated with pydantic.

Passwords never live in the YAML file: a user names the environment variable or the secret file that
holds its password. ``$L2B2_ZMS_STAFF_KEY`` replaces the committed demo staff key (issue 17).
"""
from __future__ import annotations

from dataclasses import dataclass, field
import os
from pathlib import Path
from typing import Annotated

from pydantic import Field, model_validator

from l2b2_common.config import ConfigError, StrictModel, config_path, load_model
from l2b2_queue_bridge.server_auth import UserAccount, password_hash


@dataclass
class ServerSettings:
    host: str = '127.0.0.1'
    port: int = 8090
    db: str = ''
    catalog: str = 'departments.yaml'
    #: Fixed X-Authkey values (a session that never expires, every scope); $L2B2_ZMS_STAFF_KEY replaces them.
    staff_auth_keys: tuple[str, ...] = ()
    users: tuple[UserAccount, ...] = ()
    session_duration_s: float = 36000.0
    #: ``X-Token`` accepted by ``GET /status/`` (upstream's ZMS_CONFIG_SECURE_TOKEN); empty: sessions only.
    status_token: str = ''
    #: State-changing requests per client address and minute; 0 = no limit.
    rate_limit_per_minute: int = 120
    max_body_bytes: int = 64 * 1024
    scope_defaults: dict[str, int] = field(default_factory=lambda: {
        'first_number': 1, 'last_number': 999, 'processing_minutes': 10, 'workstations': 2})
    seed_random: int = 4711
    seed_slot_minutes: int = 20
    demo_stale_after_minutes: int = 5


class _User(StrictModel):
    login: str = Field(min_length=1, max_length=100)
    #: Name of the environment variable holding the password (never the password itself).
    password_env: str = ''
    #: A file readable only by the server's user, holding the password.
    password_file: str = ''
    permissions: list[str] = ['appointment']
    scopes: list[int] = []


class _ScopeDefaults(StrictModel):
    first_number: int = Field(1, ge=1, le=99999)
    last_number: int = Field(999, ge=1, le=99999)
    processing_minutes: int = Field(10, ge=1, le=240)
    workstations: int = Field(2, ge=1, le=100)

    @model_validator(mode='after')
    def _numbers(self) -> _ScopeDefaults:
        if self.last_number < self.first_number:
            raise ValueError('last_number must not be below first_number')
        return self


class _ServerFile(StrictModel):
    host: str = '127.0.0.1'
    port: int = Field(8090, ge=0, le=65535)
    db: str = ''
    catalog: str = 'departments.yaml'
    staff_auth_keys: list[Annotated[str, Field(min_length=8)]] = []
    users: list[_User] = []
    session_duration_s: float = Field(36000.0, ge=1.0, le=7 * 86400.0)
    rate_limit_per_minute: int = Field(120, ge=0, le=100000)
    max_body_bytes: int = Field(64 * 1024, ge=256, le=16 * 1024 * 1024)
    scope_defaults: _ScopeDefaults = _ScopeDefaults()
    seed_random: int = 4711
    seed_slot_minutes: int = Field(20, ge=5, le=120)
    demo_stale_after_minutes: int = Field(5, ge=1, le=24 * 60)


class _File(StrictModel):
    appointment_server: _ServerFile


def default_db_path() -> Path:
    """Never inside the repository: $L2B2_STATE_DIR or ~/.local/state/l2b2."""
    state = os.environ.get('L2B2_STATE_DIR') or os.path.join(
        os.environ.get('XDG_STATE_HOME') or os.path.expanduser('~/.local/state'), 'l2b2')
    return Path(state) / 'appointments.sqlite3'


def _password(path: Path, index: int, user: _User) -> str | None:
    """A user's password from its environment variable or secret file; None: the user cannot log in."""
    if user.password_env and os.environ.get(user.password_env):
        return os.environ[user.password_env]
    if user.password_file:
        try:
            return Path(user.password_file).expanduser().read_text(encoding='utf-8').strip() or None
        except OSError as exc:
            raise ConfigError(path, f'appointment_server.users[{index}].password_file',
                              f'cannot read: {exc.strerror}') from None
    return None


def load_settings(name: str) -> ServerSettings:
    """Read ``appointment_server:`` from a YAML file under config/ (or an absolute path)."""
    path = config_path(name)
    s = load_model(path, _File).appointment_server
    env_key = os.environ.get('L2B2_ZMS_STAFF_KEY', '')
    users = []
    for i, u in enumerate(s.users):
        password = _password(path, i, u)
        if password is not None:
            users.append(UserAccount(u.login, password_hash(password), frozenset(u.permissions), frozenset(u.scopes)))
    return ServerSettings(
        host=s.host, port=s.port, db=s.db, catalog=s.catalog,
        # A configured key replaces the committed demo key (issue 17): the demo key is then refused.
        staff_auth_keys=(env_key,) if env_key else tuple(s.staff_auth_keys), users=tuple(users),
        session_duration_s=s.session_duration_s, status_token=os.environ.get('L2B2_ZMS_STATUS_TOKEN', ''),
        rate_limit_per_minute=s.rate_limit_per_minute, max_body_bytes=s.max_body_bytes,
        scope_defaults=s.scope_defaults.model_dump(), seed_random=s.seed_random,
        seed_slot_minutes=s.seed_slot_minutes, demo_stale_after_minutes=s.demo_stale_after_minutes)
