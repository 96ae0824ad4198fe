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


def test_a_misspelt_key_in_a_params_file_stops_the_node_naming_file_and_key(tmp_path):
    """rclpy ignores overrides nobody declared; we refuse them, so a typo never leaves a default in force."""
    import os
    from pathlib import Path
    import subprocess
    import sys

    from l2b2_common.node_main import EXIT_CONFIG_ERROR

    params = tmp_path / 'safety_gate.yaml'
    params.write_text('safety_gate:\n  ros__parameters:\n    rate_hz: 20.0\n    deadman_timout_s: 0.3\n')
    exe = Path(sys.executable).parent / 'l2b2-safety-gate'
    proc = subprocess.run([str(exe), '--ros-args', '--params-file', str(params)], capture_output=True,
                          text=True, timeout=60, env=os.environ.copy())
    assert proc.returncode == EXIT_CONFIG_ERROR, proc.stderr
    assert 'deadman_timout_s' in proc.stderr and str(params) in proc.stderr


def test_bench_json_writes_unmeasured_figures_as_null():
    import json
    import math

    from l2b2_common.bench import BenchResult, percentile

    result = BenchResult('t', {'p99_ms': percentile([], 99), 'ok': 1.5}, rows=[{'x': math.inf}])
    assert json.loads(result.json()) == {'p99_ms': None, 'ok': 1.5, 'rows': [{'x': None}]}
