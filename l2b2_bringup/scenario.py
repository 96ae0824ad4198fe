"""Scripted visits (scenarios/*.yaml): what a visitor does and what the robot must do in return.

A city writes its own scenarios in YAML; this module loads and validates them (no ROS import).
The runner (scenario_runner.py) plays them against the real running stack.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, create_model, field_validator

from l2b2_common.config import ConfigError, StrictModel, load_model

_Within = Annotated[float, Field(ge=0.1, le=3600)]


class _Approach(StrictModel):
    behaviour: str = ''
    speed: float | None = None
    within_s: _Within | None = None


class _Say(StrictModel):
    text: str
    language: Literal['de', 'tr', 'en'] = 'de'
    audio: bool = False


class _Touch(StrictModel):
    action: Annotated[str, Field(min_length=1)]
    value: str | int | float | None = None
    language: str | None = None


class _Visitor(StrictModel):
    behaviour: Annotated[str, Field(min_length=1)]
    speed: float | None = None


class _Estop(StrictModel):
    engage: bool = True


class _AppointmentSystem(StrictModel):
    action: Literal['stop', 'continue', 'kill']


_OneOf = str | list[str]  # a value, or a list of the values that pass


class _ExpectState(StrictModel):
    state: _OneOf | None = None
    target: str | None = None
    language: str | None = None
    intent: str | None = None
    display_number: bool | None = None
    within_s: _Within | None = None


class _ExpectSay(StrictModel):
    contains: _OneOf = []  # every word must be in one sentence; [] = anything said
    language: str | None = None
    within_s: _Within | None = None


class _WithinOnly(StrictModel):
    within_s: _Within | None = None


class _ExpectStopped(StrictModel):
    within_s: _Within | None = None
    hold_s: float | None = None


#: step kind -> the schema of its arguments
STEP_MODELS: dict[str, type[StrictModel]] = {
    'approach': _Approach,
    'say': _Say,
    'touch': _Touch,
    'visitor': _Visitor,
    'estop': _Estop,
    'appointment_system': _AppointmentSystem,
    'expect_state': _ExpectState,
    'expect_say': _ExpectSay,
    'expect_moving': _WithinOnly,
    'expect_stopped': _ExpectStopped,
    'expect_idle': _WithinOnly,
}
#: step kind -> allowed keys
STEP_KEYS: dict[str, set[str]] = {kind: set(model.model_fields) for kind, model in STEP_MODELS.items()}
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


class _ScenarioFile(StrictModel):
    name: str = ''
    description: str = ''
    language: str = 'de'
    steps: list[Any]
    tags: list[str] = []
    # "class" is a Python keyword: see _SCENARIO_FILE below.

    @field_validator('steps')
    @classmethod
    def _some(cls, v: list) -> list:
        if not v:
            raise ValueError('a scenario needs at least one step')
        return v


_SCENARIO_FILE = create_model('ScenarioFile', __base__=_ScenarioFile, **{'class': (str, 'other')})


def load_scenario(path: str | Path) -> Scenario:
    path = Path(path)
    root = load_model(path, _SCENARIO_FILE)
    steps = []
    for i, raw in enumerate(root.steps):
        key = f'steps[{i}]'
        if not isinstance(raw, dict) or len(raw) != 1:
            raise ConfigError(path, key, f'a step is one mapping "kind: {{...}}"; kinds: {", ".join(STEP_MODELS)}')
        (kind, args), = raw.items()
        if kind not in STEP_MODELS:
            raise ConfigError(path, key, f'unknown step "{kind}" (known: {", ".join(STEP_MODELS)})')
        if args is None:
            args = {}
        elif not isinstance(args, dict):
            args = {_scalar_key(kind): args}
        load_model(path, STEP_MODELS[kind], data=args, key=f'{key}.{kind}')
        steps.append(Step(kind, dict(args), f'{path.name}: {key}'))
    return Scenario(name=root.name or path.stem, scenario_class=getattr(root, 'class'),
                    description=root.description, language=root.language,
                    steps=tuple(steps), path=path, tags=tuple(root.tags))


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
