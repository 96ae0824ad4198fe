"""The department catalog (config/departments.yaml): the one file a city edits to describe its office.

Every node reads targets from here: the dialogue (what a visitor may ask for), the escort (which
waypoint), the queue bridge (which appointment-system scope and ticket printer) and the panels.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, time
from pathlib import Path
import re

from l2b2_common.config import ConfigError, Section, config_path, load_yaml

DEFAULT_FILE = 'departments.yaml'
LANGUAGES = ('de', 'tr')
DAYS = ('mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun')
_ID = re.compile(r'^[a-z][a-z0-9_]*$')
_SPAN = re.compile(r'^(\d{2}):(\d{2})-(\d{2}):(\d{2})$')


def other_language(language: str) -> str:
    """The visitor language that is not ``language`` (German <-> Turkish)."""
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


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load and validate the catalog; any problem raises ConfigError naming file, key and reason."""
    path = Path(path) if path else config_path(DEFAULT_FILE)
    root = Section(path, '', load_yaml(path))
    root.unknown_keys({'version', 'home_waypoint', 'targets'})
    version = root.int('version', 1)
    if version != 1:
        raise root.error('version', f'unsupported catalog version {version} (this software reads 1)')
    home = root.str('home_waypoint', 'home')
    items = root.list('targets')
    if not items:
        raise root.error('targets', 'at least one target is required')
    targets: dict[str, Target] = {}
    for i, item in enumerate(items):
        target = _target(Section(path, f'targets[{i}]', item))
        if target.id in targets:
            raise ConfigError(path, f'targets[{i}].id', f'duplicate target id "{target.id}"')
        targets[target.id] = target
    return Catalog(targets=targets, home_waypoint=home, path=path)


def _target(s: Section) -> Target:
    tid = s.str('id')
    if not _ID.match(tid):
        raise s.error('id', f'"{tid}" must be lower case letters, digits and _')
    s = Section(s.path, f'targets[{tid}]', s.data)  # name the target in later errors
    s.unknown_keys({'id', 'name', 'waypoint', 'opening_hours', 'keywords', 'services', 'appointment',
                    'location_hint'})
    hours, always = _hours(s)
    appointment = s.section('appointment', {})
    appointment.unknown_keys({'scope_id', 'printer_hash'})
    services = tuple(_service(Section(s.path, f'{s.key}.services[{j}]', item))
                     for j, item in enumerate(s.list('services', [])))
    return Target(
        id=tid,
        name=_texts(s, 'name', required=LANGUAGES),
        waypoint=s.str('waypoint', tid),
        opening_hours=hours,
        always_open=always,
        keywords=_keywords(s, 'keywords'),
        services=services,
        scope_id=appointment.int('scope_id', None, min=1),
        printer_hash=appointment.str('printer_hash', None),
        location_hint=_texts(s, 'location_hint', required=()),
    )


def _service(s: Section) -> Service:
    s.unknown_keys({'id', 'name', 'keywords', 'zms_request_id'})
    sid = s.str('id')
    if not _ID.match(sid):
        raise s.error('id', f'"{sid}" must be lower case letters, digits and _')
    return Service(id=sid, name=_texts(s, 'name', required=LANGUAGES), keywords=_keywords(s, 'keywords'),
                   zms_request_id=s.int('zms_request_id', None, min=1))


def _texts(s: Section, key: str, required: tuple[str, ...]) -> dict[str, str]:
    texts = s.section(key, {} if not required else ...)
    out = {}
    for lang, text in texts.data.items():
        if not isinstance(text, str) or not text.strip():
            raise texts.error(str(lang), 'must be a non-empty text')
        out[str(lang)] = text
    for lang in required:
        if lang not in out:
            raise texts.error(lang, 'required language is missing')
    return out


def _keywords(s: Section, key: str) -> dict[str, tuple[str, ...]]:
    words = s.section(key, {})
    out = {}
    for lang, items in words.data.items():
        if not isinstance(items, list) or not all(isinstance(w, str) and w.strip() for w in items):
            raise words.error(str(lang), 'must be a list of non-empty words or phrases')
        out[str(lang)] = tuple(items)
    return out


def _hours(s: Section) -> tuple[dict[str, tuple[tuple[time, time], ...]], bool]:
    raw = s.get('opening_hours', (str, dict))
    if raw == 'always':
        return {}, True
    if isinstance(raw, str):
        raise s.error('opening_hours', 'must be "always" or a mapping of day -> ["HH:MM-HH:MM", ...]')
    hours = Section(s.path, f'{s.key}.opening_hours', raw)
    hours.unknown_keys(set(DAYS))
    out = {}
    for day in DAYS:
        spans = []
        for k, span in enumerate(hours.list(day, [])):
            m = _SPAN.match(str(span))
            bad = hours.error(f'{day}[{k}]', f'"{span}" is not HH:MM-HH:MM')
            if not m:
                raise bad
            h1, m1, h2, m2 = map(int, m.groups())
            if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59:
                raise bad
            start, end = time(h1, m1), (time(23, 59, 59) if h2 == 24 else time(h2, m2))
            if end <= start:
                raise hours.error(f'{day}[{k}]', f'"{span}" closes before it opens')
            spans.append((start, end))
        if spans:
            out[day] = tuple(spans)
    return out, False
