"""Declare a node's parameters up front, each with a full descriptor, and validate them at start-up.

Nodes describe their parameters as config dataclasses with :func:`~l2b2_common.tunables.tunable`
fields and call :func:`~l2b2_common.tunables.declare_tunables`; this module is the ROS side of that:
:func:`declare_params` declares the specs with type, description and range, reads them back and
raises :class:`ParameterError` naming the parameter when a value is out of range or not one of the
allowed choices.
"""
from __future__ import annotations

from collections.abc import Sequence
from types import SimpleNamespace

from rcl_interfaces.msg import FloatingPointRange, IntegerRange, ParameterDescriptor, ParameterType
from rclpy.exceptions import ParameterUninitializedException
from rclpy.node import Node
from rclpy.parameter import Parameter

from l2b2_common.tunables import Param, ParameterError, check_value

__all__ = ['Param', 'ParameterError', 'declare_params', 'descriptor', 'undeclared_overrides']

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


def ros_type(p: Param) -> int:
    if isinstance(p.default, list):
        return _LIST_TYPES[p.item_kind]
    return _TYPES[type(p.default)]


def descriptor(p: Param) -> ParameterDescriptor:
    """The ROS descriptor of a spec: type, description (with the choices) and range."""
    d = ParameterDescriptor(name=p.name, type=ros_type(p), read_only=p.read_only)
    text = p.description
    if p.choices:
        text += f' One of: {", ".join(map(str, p.choices))}.'
    d.description = text
    if p.min is not None or p.max is not None:
        if p.py_type is float:
            d.floating_point_range = [FloatingPointRange(
                from_value=float(p.min if p.min is not None else -1e308),
                to_value=float(p.max if p.max is not None else 1e308), step=0.0)]
        elif p.py_type is int:
            d.integer_range = [IntegerRange(
                from_value=int(p.min if p.min is not None else -(2**63)),
                to_value=int(p.max if p.max is not None else 2**63 - 1), step=0)]
    return d


def declare_params(node: Node, params: Sequence[Param]) -> SimpleNamespace:
    """Declare, read and validate ``params``; returns their values as attributes.

    rclpy itself rejects an override outside the descriptor's range; both its error and ours name
    the node and the parameter, whatever the value's source (params file, command line, launch).
    """
    values = {}
    for p in params:
        # An empty list carries no element type and rclpy would declare a byte array: declare the
        # list type explicitly so that a params file can set it to strings, numbers or booleans.
        default = Parameter.Type(ros_type(p)) if isinstance(p.default, list) and not p.default else p.default
        try:
            node.declare_parameter(p.name, default, descriptor(p))
        except Exception as exc:  # noqa: BLE001 - rclpy raises several types for a bad override
            raise ParameterError(node.get_name(), p.name, f'invalid value: {exc}') from None
        try:
            value = node.get_parameter(p.name).value
        except ParameterUninitializedException:  # an empty-list parameter nobody set
            value = []
        if p.py_type is float and isinstance(value, int):
            value = float(value)
        check_value(node.get_name(), p, value)
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
