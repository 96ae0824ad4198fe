"""YAML configuration that fails loudly: every error names the file, the key and the reason."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, ValidationError
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or has a bad value."""

    def __init__(self, path: str | os.PathLike, key: str, reason: str):
        self.path = str(path)
        self.key = key
        self.reason = reason
        super().__init__(f'{self.path}: {key or "<file>"}: {reason}')


def share_dir() -> Path:
    """Where config/, maps/, sim/ and launch/ live: the source tree, or share/l2b2 when installed."""
    env = os.environ.get('L2B2_SHARE_DIR')
    if env:
        return Path(env)
    if (REPO_ROOT / 'config').is_dir():
        return REPO_ROOT
    try:
        from ament_index_python.packages import get_package_share_directory
        return Path(get_package_share_directory('l2b2'))
    except Exception:  # noqa: BLE001 - any lookup failure means: use the source tree
        return REPO_ROOT


def config_path(name: str) -> Path:
    """A file under config/ (absolute paths are returned unchanged)."""
    p = Path(name)
    return p if p.is_absolute() else share_dir() / 'config' / p


def load_yaml(path: str | os.PathLike) -> Any:
    """Parse a YAML file; syntax errors name the line."""
    path = Path(path)
    try:
        text = path.read_text(encoding='utf-8')
    except FileNotFoundError:
        raise ConfigError(path, '', 'file not found') from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(path, '', f'cannot read: {exc}') from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, 'problem_mark', None)
        where = f'line {mark.line + 1}' if mark else 'syntax'
        raise ConfigError(path, where, f'invalid YAML: {getattr(exc, "problem", exc)}') from None


class StrictModel(BaseModel):
    """Base of every YAML file's schema: unknown (misspelt) keys are errors, types are not coerced.

    Strict types mean a quoted number or a ``yes`` is reported instead of silently converted; an int is
    still a valid float. Use ``list`` rather than ``tuple`` for YAML sequences (strict mode reads a
    YAML list only as a list).
    """

    model_config = ConfigDict(extra='forbid', frozen=True, strict=True)


ModelT = TypeVar('ModelT', bound=BaseModel)


def load_model(path: str | os.PathLike, model: type[ModelT], *, data: Any = ..., key: str = '') -> ModelT:
    """Validate a YAML file (or ``data`` already read from ``path``) against ``model``.

    Raises :class:`ConfigError` naming the file, the first bad key as a path (``targets[2].name.de``,
    prefixed with ``key``) and the reason; an unknown key lists the allowed ones.
    """
    if data is ...:
        data = load_yaml(path)
    if data is None:
        data = {}
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        # A misspelt key also leaves its real key missing: name the misspelling, it is what to fix.
        error = next((e for e in errors if e['type'] == 'extra_forbidden'), errors[0])
        loc = tuple(error['loc'])
        where = _loc_text(((key,) if key else ()) + loc)
        raise ConfigError(path, where, _reason(model, loc, error)) from None


def _loc_text(loc: tuple) -> str:
    text = ''
    for part in loc:
        if isinstance(part, int):
            text += f'[{part}]'
        else:
            text += f'.{part}' if text else str(part)
    return text


def _reason(model: type[BaseModel], loc: tuple, error: dict) -> str:
    kind, given = error['type'], error.get('input')
    if kind == 'extra_forbidden':
        allowed = _fields_at(model, loc[:-1])
        return f'unknown key (allowed: {", ".join(sorted(allowed))})' if allowed else 'unknown key'
    if kind == 'missing':
        return 'required key is missing'
    message = error['msg']
    if message.startswith('Value error, '):  # a validator's own ValueError: its text is the reason
        return message[len('Value error, '):]
    if kind.endswith('_type') or kind.endswith('_parsing'):
        return f'{message[0].lower()}{message[1:]}, got {type(given).__name__} {given!r:.40}'
    return f'{message[0].lower()}{message[1:]}'


def _fields_at(model: Any, loc: tuple) -> list[str]:
    """Field names of the model found by following ``loc`` through nested models, lists and dicts."""
    for part in loc:
        if isinstance(model, type) and issubclass(model, BaseModel):
            field = model.model_fields.get(str(part))
            if field is None:
                return []
            model = field.annotation
        else:  # list[M], dict[str, M], M | None: step into the model it holds
            model = _inner_model(model)
            if model is None:
                return []
            field = model.model_fields.get(str(part)) if not isinstance(part, int) else None
            if field is not None:
                model = field.annotation
    model = _inner_model(model) if not (isinstance(model, type) and issubclass(model, BaseModel)) else model
    return list(model.model_fields) if model is not None else []


def _inner_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in reversed(get_args(annotation)):
        inner = _inner_model(arg)
        if inner is not None:
            return inner
    return None
