"""The department catalog (config/departments.yaml): the one file a city edits to describe its office.

Every node reads targets from here: the dialogue (what a visitor may ask for), the escort (which
waypoint), the queue bridge (which appointment-system scope and ticket printer) and the panels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
import re
from typing import Annotated, Any

from pydantic import AfterValidator, Field

from l2b2_common.config import ConfigError, StrictModel, config_path, load_model, load_yaml

DEFAULT_FILE = 'departments.yaml'
#: The visitor languages. Adding one is data (names and keywords in departments.yaml, a lexicon section, a
#: responses file) plus its code here (see docs/dialogue.md, "Adding a language").
LANGUAGES = ('de', 'tr', 'en')
#: Every target and service must have a name in these; a name missing in another language is shown in German.
REQUIRED_LANGUAGES = ('de', 'tr')
DAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
_ID = re.compile(r'^[a-z][a-z0-9_]*$')
_SPAN = re.compile(r'^(\d{2}):(\d{2})-(\d{2}):(\d{2})$')


def _non_empty(text: str) -> str:
    if not text.strip():
        raise ValueError('must be a non-empty text')
    return text


def other_language(language: str) -> str:
    """The language a visitor most likely switches to from ``language``: German <-> Turkish, others → German.

    (Callers that mean "any other language" iterate :data:`LANGUAGES`.)
    """
    return 'tr' if language == 'de' else 'de'


@dataclass(frozen=True)
class Service:
    """One thing a department does, with the words visitors use for it."""

    id: str
    name: dict[str, str]
    keywords: dict[str, tuple[str, ...]]
    zms_request_id: int | None = None


@dataclass(frozen=True)
class Target:
    """A place the robot can take a visitor to."""

    id: str
    name: dict[str, str]
    waypoint: str
    #: day -> list of (open, close); empty dict with ``always_open`` for 24/7 places.
    opening_hours: dict[str, tuple[tuple[time, time], ...]]
    always_open: bool
    keywords: dict[str, tuple[str, ...]]
    services: tuple[Service, ...] = ()
    scope_id: int | None = None
    printer_hash: str | None = None
    #: Short hint shown/said on arrival, e.g. "Schalter 3-6", per language.
    location_hint: dict[str, str] = field(default_factory=dict)

    def display_name(self, language: str) -> str:
        return self.name.get(language) or self.name['de']

    def is_open(self, when: datetime) -> bool:
        if self.always_open:
            return True
        spans = self.opening_hours.get(DAYS[when.weekday()], ())
        return any(start <= when.time() < end for start, end in spans)


@dataclass(frozen=True)
class Catalog:
    targets: dict[str, Target]
    home_waypoint: str
    path: Path

    def __getitem__(self, target_id: str) -> Target:
        return self.targets[target_id]

    def __contains__(self, target_id: object) -> bool:
        return target_id in self.targets

    def ids(self) -> list[str]:
        return list(self.targets)


Text = Annotated[str, AfterValidator(_non_empty)]


class _Appointment(StrictModel):
    scope_id: int | None = Field(None, ge=1)
    printer_hash: str | None = None


class _Service(StrictModel):
    id: str
    name: dict[str, Text]
    keywords: dict[str, list[Text]] = {}
    zms_request_id: int | None = Field(None, ge=1)


class _Target(StrictModel):
    id: str
    name: dict[str, Text]
    waypoint: str | None = None
    #: "always", or day -> ["HH:MM-HH:MM", ...]; the span grammar is checked by _hours for exact keys.
    opening_hours: Any
    keywords: dict[str, list[Text]] = {}
    services: list[_Service] = []
    appointment: _Appointment = _Appointment()
    location_hint: dict[str, Text] = {}


class _CatalogFile(StrictModel):
    version: int = 1
    home_waypoint: str = 'home'
    targets: list[Any]


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate the catalog; any problem raises ConfigError naming file, key and reason."""
    path = Path(path) if path else config_path(DEFAULT_FILE)
    root = load_model(path, _CatalogFile, data=_without_nulls(load_yaml(path)))
    if root.version != 1:
        raise ConfigError(path, 'version', f'unsupported catalog version {root.version} (this software reads 1)')
    if not root.targets:
        raise ConfigError(path, 'targets', 'at least one target is required')
    targets: dict[str, Target] = {}
    for i, item in enumerate(root.targets):
        target = _target(path, i, item)
        if target.id in targets:
            raise ConfigError(path, f'targets[{i}].id', f'duplicate target id "{target.id}"')
        targets[target.id] = target
    return Catalog(targets=targets, home_waypoint=root.home_waypoint, path=path)


def _without_nulls(data: Any) -> Any:
    """An empty YAML value (``key:``) means "not given", as if the key were absent."""
    if isinstance(data, dict):
        return {k: _without_nulls(v) for k, v in data.items() if v is not None}
    if isinstance(data, list):
        return [_without_nulls(v) for v in data]
    return data


def _target(path: Path, index: int, item: Any) -> Target:
    tid = item.get('id') if isinstance(item, dict) else None
    if not isinstance(tid, str) or not _ID.match(tid):
        raise ConfigError(path, f'targets[{index}].id', f'"{tid}" must be lower case letters, digits and _')
    key = f'targets[{tid}]'  # name the target in later errors
    t = load_model(path, _Target, data=item, key=key)
    _require_languages(path, f'{key}.name', t.name)
    services = []
    for j, svc in enumerate(t.services):
        if not _ID.match(svc.id):
            raise ConfigError(path, f'{key}.services[{j}].id', f'"{svc.id}" must be lower case letters, digits and _')
        _require_languages(path, f'{key}.services[{j}].name', svc.name)
        services.append(Service(id=svc.id, name=dict(svc.name), keywords=_words(svc.keywords),
                                zms_request_id=svc.zms_request_id))
    hours, always = _hours(path, f'{key}.opening_hours', t.opening_hours)
    return Target(id=tid, name=dict(t.name), waypoint=t.waypoint or tid, opening_hours=hours, always_open=always,
                  keywords=_words(t.keywords), services=tuple(services), scope_id=t.appointment.scope_id,
                  printer_hash=t.appointment.printer_hash, location_hint=dict(t.location_hint))


def _require_languages(path: Path, key: str, texts: dict[str, str]) -> None:
    for lang in REQUIRED_LANGUAGES:
        if lang not in texts:
            raise ConfigError(path, f'{key}.{lang}', 'required language is missing')


def _words(words: dict[str, list[str]]) -> dict[str, tuple[str, ...]]:
    return {lang: tuple(items) for lang, items in words.items()}


def _hours(path: Path, key: str, raw: Any) -> tuple[dict[str, tuple[tuple[time, time], ...]], bool]:
    if raw == 'always':
        return {}, True
    if not isinstance(raw, dict):
        raise ConfigError(path, key, 'must be "always" or a mapping of day -> ["HH:MM-HH:MM", ...]')
    for day in raw:
        if day not in DAYS:
            raise ConfigError(path, f'{key}.{day}', f'unknown key (allowed: {", ".join(sorted(DAYS))})')
    out = {}
    for day in DAYS:
        spans = []
        items = raw.get(day) or []
        if not isinstance(items, list):
            raise ConfigError(path, f'{key}.{day}', 'must be a list of "HH:MM-HH:MM"')
        for k, span in enumerate(items):
            m = _SPAN.match(str(span))
            bad = ConfigError(path, f'{key}.{day}[{k}]', f'"{span}" is not HH:MM-HH:MM')
            if not m:
                raise bad
            h1, m1, h2, m2 = map(int, m.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
                raise bad
            start, end = time(h1, m1), (time(23, 59, 59) if h2 == 24 else time(h2, m2))
            if end <= start:
                raise ConfigError(path, f'{key}.{day}[{k}]', f'"{span}" closes before it opens')
            spans.append((start, end))
        if spans:
            out[day] = tuple(spans)
    return out, False
