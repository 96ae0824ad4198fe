"""Parameters are declared with full descriptors and bad values are named."""
import pytest
from rcl_interfaces.msg import ParameterType
from rclpy.node import Node
from rclpy.parameter import Parameter

from l2b2_common.params import Param, ParameterError, declare_params

PARAMS = (
    Param('speed', 0.5, 'Cruise speed.', min=0.0, max=1.0),
    Param('mode', 'sim', 'Where we run.', choices=('sim', 'robot')),
    Param('names', ['a'], 'Some names.'),
    Param('retries', 3, 'How often.', min=0, max=10),
)


def test_descriptors_carry_type_description_and_range(ros):
    node = ros.add(Node('p', context=ros.context))
    values = declare_params(node, PARAMS)
    assert (values.speed, values.mode, values.names, values.retries) == (0.5, 'sim', ['a'], 3)
    d = node.describe_parameter('speed')
    assert d.type == ParameterType.PARAMETER_DOUBLE and 'Cruise speed' in d.description
    assert d.floating_point_range[0].from_value == 0.0 and d.floating_point_range[0].to_value == 1.0
    assert node.describe_parameter('retries').integer_range[0].to_value == 10
    assert 'One of: sim, robot' in node.describe_parameter('mode').description


@pytest.mark.parametrize('name, value', [('speed', 3.0), ('mode', 'mars'), ('retries', -1), ('speed', 'fast')])
def test_bad_values_raise_naming_node_and_parameter(ros, name, value):
    node = Node('p', context=ros.context, parameter_overrides=[Parameter(name, value=value)])
    try:
        with pytest.raises(ParameterError) as err:
            declare_params(node, PARAMS)
        assert err.value.name == name and 'p' in str(err.value)
    finally:
        node.destroy_node()


def test_empty_list_default_takes_strings_from_overrides(ros):
    specs = (Param('words', [], 'Extra words.', item_type=str),)
    node = Node('p', context=ros.context, parameter_overrides=[Parameter('words', value=['Perso', 'Klo'])])
    try:
        assert declare_params(node, specs).words == ['Perso', 'Klo']
    finally:
        node.destroy_node()
    plain = Node('q', context=ros.context)
    try:
        assert declare_params(plain, specs).words == []
        assert plain.describe_parameter('words').type == ParameterType.PARAMETER_STRING_ARRAY
    finally:
        plain.destroy_node()
