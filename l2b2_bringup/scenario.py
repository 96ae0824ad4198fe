"""Scripted visits (scenarios/*.yaml): what a visitor does and what the robot must do in return.

A city writes its own scenarios in YAML; this module loads and validates them (no ROS import).
The runner (scenario_runner.py) plays them against the real running stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from l2b2_common.config import ConfigError, Section, load_yaml

#: step kind -> allowed keys
STEP_KEYS: dict[str, set[str]] = {
    'approach': {'behaviour', 'speed', 'within_s'},
    'say': {'text', 'language', 'audio'},
    'touch': {'action', 'value', 'language'},
    'visitor': {'behaviour', 'speed'},
    'estop': {'engage'},
    'appointment_system': {'action'},
    'expect_state': {'state', 'target', 'language', 'intent', 'display_number', 'within_s'},
    'expect_say': {'contains', 'language', 'within_s'},
    'expect_moving': {'within_s'},
    'expect_stopped': {'within_s', 'hold_s'},
    'expect_idle': {'within_s'},
}
ACTIONS = {'approach', 'say', 'touch', 'visitor', 'estop', 'appointment_system'}
DEFAULT_WITHIN_S = 20.0


@dataclass(frozen=True)
class Step:
    kind: str
    args: dict[str, Any]
    where: str  # "file: steps[3]" for error messages

    @property
    def is_action(self) -> bool:
        return self.kind in ACTIONS

    def within(self, default: float = DEFAULT_WITHIN_S) -> float:
        return float(self.args.get('within_s', default))


@dataclass(frozen=True)
class Scenario:
    name: str
    scenario_class: str
    description: str
    language: str
    steps: tuple[Step, ...]
    path: Path
    tags: tuple[str, ...] = field(default_factory=tuple)


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    root = Section(path, '', load_yaml(path))
    root.unknown_keys({'name', 'class', 'description', 'language', 'steps', 'tags'})
    steps = []
    for i, raw in enumerate(root.list('steps')):
        key = f'steps[{i}]'
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ConfigError(path, key, f'a step is one mapping "kind: {{...}}"; kinds: {", ".join(STEP_KEYS)}')
        (kind, args), = raw.items()
        if kind not in STEP_KEYS:
            raise ConfigError(path, key, f'unknown step "{kind}" (known: {", ".join(STEP_KEYS)})')
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            args = {_scalar_key(kind): args}
        s = Section(path, f'{key}.{kind}', args)
        s.unknown_keys(STEP_KEYS[kind])
        _check_step(kind, s)
        steps.append(Step(kind, dict(args), f'{path.name}: {key}'))
    if not steps:
        raise root.error('steps', 'a scenario needs at least one step')
    return Scenario(name=root.str('name', path.stem), scenario_class=root.str('class', 'other'),
                    description=root.str('description', ''), language=root.str('language', 'de'),
                    steps=tuple(steps), path=path, tags=tuple(root.list('tags', [])))


def load_scenarios(paths: list[str | Path]) -> list[Scenario]:
    """Files, or folders of *.yaml files (sorted), in the order given."""
    out = []
    for p in map(Path, paths):
        files = sorted(p.glob('*.yaml')) if p.is_dir() else [p]
        out.extend(load_scenario(f) for f in files)
    return out


def _scalar_key(kind: str) -> str:
    """Short forms: ``say: "Hallo"``, ``estop: true``, ``expect_state: listening``, ``touch: start``."""
    return {'say': 'text', 'estop': 'engage', 'expect_state': 'state', 'touch': 'action', 'visitor': 'behaviour',
            'appointment_system': 'action', 'expect_say': 'contains', 'expect_moving': 'within_s',
            'expect_stopped': 'within_s', 'expect_idle': 'within_s', 'approach': 'behaviour'}[kind]


def _check_step(kind: str, s: Section) -> None:
    if kind == 'say':
        s.str('text')
        if s.str('language', 'de') not in ('de', 'tr', 'en'):
            raise s.error('language', 'must be de, tr or en')
    elif kind == 'touch':
        s.str('action')
    elif kind == 'appointment_system' and s.str('action') not in ('stop', 'continue', 'kill'):
        raise s.error('action', 'must be stop, continue or kill')
    elif kind == 'visitor':
        s.str('behaviour')
    if 'within_s' in s.data:
        s.number('within_s', min=0.1, max=3600)
