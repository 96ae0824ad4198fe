"""Tunables declared once: a config dataclass whose fields carry their own description and bounds.

A field made with :func:`tunable` is at once the plain-Python setting (the policy or engine reads the
dataclass), the ROS parameter (:func:`declare_tunables` declares it with a full descriptor, validates
it and builds the dataclass) and its documentation. Adding a tunable is one line in one dataclass plus,
where the default is not wanted, one line of YAML.

>>> from dataclasses import dataclass
>>> @dataclass(frozen=True)
... class Walk:
...     follow_distance: float = tunable(3.0, 'Counts as following within this distance (m).', min=0.5)
>>> validated(Walk, follow_distance=2.0).follow_distance
2.0
"""
from __future__ import annotations

from collections.abc import Sequence
import dataclasses
from dataclasses import dataclass, field
from typing import Any, TypeVar

_META = 'l2b2_tunable'
T = TypeVar('T')


class ParameterError(ValueError):
    """A parameter has a value the node cannot work with."""

    def __init__(self, node_name: str, name: str, reason: str):
        self.node_name, self.name, self.reason = node_name, name, reason
        super().__init__(f'{node_name}: parameter "{name}": {reason}')


@dataclass(frozen=True)
class Param:
    """One parameter: name, default (its type is the parameter's type), description and bounds."""

    name: str
    default: Any
    description: str
    min: float | None = None
    max: float | None = None
    choices: Sequence[Any] = field(default_factory=tuple)
    read_only: bool = True
    #: Element type for list parameters (the default may be an empty list).
    item_type: type | None = None

    @property
    def py_type(self) -> type:
        return list if isinstance(self.default, list) else type(self.default)

    @property
    def item_kind(self) -> type:
        """The element type of a list parameter."""
        return self.item_type or (type(self.default[0]) if self.default else str)


def check_value(owner: str, p: Param, value: Any) -> None:
    """Raise :class:`ParameterError` when ``value`` is outside ``p``'s range or not one of its choices."""
    if p.min is not None and value < p.min:
        raise ParameterError(owner, p.name, f'{value} is below the minimum {p.min}')
    if p.max is not None and value > p.max:
        raise ParameterError(owner, p.name, f'{value} is above the maximum {p.max}')
    if p.choices and value not in p.choices:
        raise ParameterError(owner, p.name, f'{value!r} is not one of {list(p.choices)}')


def tunable(default: Any, description: str, *, min: float | None = None, max: float | None = None,
            choices: Sequence[Any] = (), item_type: type | None = None, read_only: bool = True) -> Any:
    """A dataclass field that is also a ROS parameter: default, description, range and choices."""
    meta = {_META: {'description': description, 'min': min, 'max': max, 'choices': tuple(choices),
                    'item_type': item_type, 'read_only': read_only}}
    if isinstance(default, list):
        items = list(default)
        return dataclasses.field(default_factory=lambda: list(items), metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def describe(cls: type, *, prefix: str = '') -> list[Param]:
    """The parameter spec of every tunable field of ``cls`` (fields without metadata are not tunables)."""
    specs = []
    for f in dataclasses.fields(cls):
        meta = f.metadata.get(_META)
        if meta is None:
            continue
        default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
        specs.append(Param(prefix + f.name, default, meta['description'], min=meta['min'], max=meta['max'],
                           choices=meta['choices'], read_only=meta['read_only'], item_type=meta['item_type']))
    return specs


def validated(cls: type[T], owner: str = '', **values: Any) -> T:
    """Build ``cls`` from ``values`` (missing ones default), checking each tunable's type, range and choices.

    Raises :class:`ParameterError` naming ``owner`` (a node or file) and the field.
    """
    specs = {p.name: p for p in describe(cls)}
    for name, value in values.items():
        spec = specs.get(name)
        if spec is None:
            raise ParameterError(owner or cls.__name__, name, 'unknown setting '
                                 f'(allowed: {", ".join(sorted(specs))})')
        if spec.py_type is float and isinstance(value, int) and not isinstance(value, bool):
            values[name] = value = float(value)
        expected = spec.py_type
        if not isinstance(value, expected) or (isinstance(value, bool) and expected is not bool):
            raise ParameterError(owner or cls.__name__, name,
                                 f'expected {expected.__name__}, got {type(value).__name__} {value!r:.40}')
        check_value(owner or cls.__name__, spec, value)
    return cls(**values)


def declare_tunables(node, cls: type[T], *, prefix: str = '') -> T:
    """Declare every tunable of ``cls`` as a parameter of ``node`` (``prefix`` + field name), read the
    values (params file, command line, launch), validate them and return the dataclass."""
    from l2b2_common.params import declare_params  # rclpy only where a node exists

    values = vars(declare_params(node, describe(cls, prefix=prefix)))
    return cls(**{name[len(prefix):]: value for name, value in values.items()})
