"""Declare a node's parameters up front, each with a full descriptor, and validate them at start-up.

A node lists its parameters as :class:`Param` specs; :func:`declare_params` declares them with
type, description and range, reads them back and raises :class:`ParameterError` naming the
parameter when a value is out of range or not one of the allowed choices.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

_TYPES = {
    bool: ParameterType.PARAMETER_BOOL,
    int: ParameterType.PARAMETER_INTEGER,
    float: ParameterType.PARAMETER_DOUBLE,
    str: ParameterType.PARAMETER_STRING,
}
_LIST_TYPES = {
    bool: ParameterType.PARAMETER_BOOL_ARRAY,
    int: ParameterType.PARAMETER_INTEGER_ARRAY,
    float: ParameterType.PARAMETER_DOUBLE_ARRAY,
    str: ParameterType.PARAMETER_STRING_ARRAY,
}


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

    def descriptor(self) -> ParameterDescriptor:
        d = ParameterDescriptor(name=self.name, type=self.ros_type, read_only=self.read_only)
        text = self.description
        if self.choices:
            text += f' One of: {", ".join(map(str, self.choices))}.'
        d.description = text
        if self.min is not None or self.max is not None:
            if self.py_type is float:
                d.floating_point_range = [FloatingPointRange(
                    from_value=float(self.min if self.min is not None else -1e308),
                    to_value=float(self.max if self.max is not None else 1e308), step=0.0)]
            elif self.py_type is int:
                d.integer_range = [IntegerRange(
                    from_value=int(self.min if self.min is not None else -(2**63)),
                    to_value=int(self.max if self.max is not None else 2**63 - 1), step=0)]
        return d

    @property
    def py_type(self) -> type:
        if isinstance(self.default, list):
            return list
        return type(self.default)

    @property
    def ros_type(self) -> int:
        if isinstance(self.default, list):
            item = self.item_type or (type(self.default[0]) if self.default else str)
            return _LIST_TYPES[item]
        return _TYPES[type(self.default)]


def declare_params(node: Node, params: Sequence[Param]) -> SimpleNamespace:
    """Declare, read and validate ``params``; returns their values as attributes.

    rclpy itself rejects an override outside the descriptor's range; both its error and ours name
    the node and the parameter, whatever the value's source (params file, command line, launch).
    """
    values = {}
    for p in params:
        # An empty list carries no element type and rclpy would declare a byte array: declare the
        # list type explicitly so that a params file can set it to strings, numbers or booleans.
        default = Parameter.Type(p.ros_type) if isinstance(p.default, list) and not p.default else p.default
        try:
            node.declare_parameter(p.name, default, p.descriptor())
        except Exception as exc:  # noqa: BLE001 - rclpy raises several types for a bad override
            raise ParameterError(node.get_name(), p.name, f'invalid value: {exc}') from None
        try:
            value = node.get_parameter(p.name).value
        except ParameterUninitializedException:  # an empty-list parameter nobody set
            value = []
        if p.py_type is float and isinstance(value, int):
            value = float(value)
        _validate(node.get_name(), p, value)
        values[p.name] = value
    return SimpleNamespace(**values)


def undeclared_overrides(node: Node) -> list[str]:
    """Names set for ``node`` (params file, command line) that it never declared: typos, mostly.

    rclpy silently ignores such overrides, so a misspelt key in a params file would leave the
    default in force without a word. ``qos_overrides.*`` are rclpy's own and are skipped.
    """
    declared = set(node._parameters)  # rclpy has no public list of declared names
    return sorted(name for name in node._parameter_overrides  # nor of overrides
                  if name not in declared and not name.startswith('qos_overrides.'))


def _validate(node_name: str, p: Param, value: Any) -> None:
    if p.min is not None and value < p.min:
        raise ParameterError(node_name, p.name, f'{value} is below the minimum {p.min}')
    if p.max is not None and value > p.max:
        raise ParameterError(node_name, p.name, f'{value} is above the maximum {p.max}')
    if p.choices and value not in p.choices:
        raise ParameterError(node_name, p.name, f'{value!r} is not one of {list(p.choices)}')
