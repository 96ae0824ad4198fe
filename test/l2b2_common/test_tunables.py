"""A config dataclass is the single source of its tunables: plain Python, ROS parameters and docs."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from rclpy.parameter import Parameter

from l2b2_common.config import ConfigError, StrictModel, load_model
from l2b2_common.params import descriptor
from l2b2_common.tunables import ParameterError, declare_tunables, describe, tunable, validated


@dataclass(frozen=True)
class WalkConfig:
    """A made-up config, shaped like the real ones."""

    follow_distance: float = tunable(3.0, 'Counts as following within this distance (m).', min=0.5, max=10.0)
    retries: int = tunable(2, 'Goals retried.', min=0, max=10)
    mode: str = tunable('walk', 'How to move.', choices=('walk', 'roll'))
    names: list = tunable([], 'Names.', item_type=str)
    not_a_parameter: int = 7


def test_describe_takes_everything_from_the_fields():
    specs = {p.name: p for p in describe(WalkConfig)}
    assert set(specs) == {'follow_distance', 'retries', 'mode', 'names'}
    d = descriptor(specs['follow_distance'])
    assert d.floating_point_range[0].from_value == 0.5 and d.floating_point_range[0].to_value == 10.0
    assert 'One of: walk, roll.' in descriptor(specs['mode']).description
    assert [p.name for p in describe(WalkConfig, prefix='escort.')][0] == 'escort.follow_distance'


def test_validated_checks_types_ranges_and_choices():
    assert validated(WalkConfig, retries=3).retries == 3
    assert validated(WalkConfig, follow_distance=2).follow_distance == 2.0  # an int is a valid float
    with pytest.raises(ParameterError, match='follow_distance.*below the minimum 0.5'):
        validated(WalkConfig, 'escort', follow_distance=0.1)
    with pytest.raises(ParameterError, match="mode.*'run' is not one of"):
        validated(WalkConfig, mode='run')
    with pytest.raises(ParameterError, match='retries.*expected int, got bool'):
        validated(WalkConfig, retries=True)
    with pytest.raises(ParameterError, match=r'folow_distance.*unknown setting \(allowed: follow_distance'):
        validated(WalkConfig, folow_distance=1.0)
    assert WalkConfig().names == [] and WalkConfig().names is not WalkConfig().names


def test_declare_tunables_on_a_real_node(ros):
    import rclpy

    node = ros.add(rclpy.create_node('walker', context=ros.context, parameter_overrides=[
        Parameter('follow_distance', value=2.5), Parameter('names', value=['a', 'b'])]))
    config = declare_tunables(node, WalkConfig)
    assert config == WalkConfig(follow_distance=2.5, names=['a', 'b'])
    assert node.describe_parameter('retries').integer_range[0].to_value == 10

    bad = ros.add(rclpy.create_node('bad_walker', context=ros.context,
                                    parameter_overrides=[Parameter('mode', value='run')]))
    with pytest.raises(ParameterError, match='bad_walker: parameter "mode"'):
        declare_tunables(bad, WalkConfig)


class _Texts(StrictModel):
    de: str
    tr: str


class _File(StrictModel):
    texts: dict[str, _Texts]
    rate: float = 1.0


def test_load_model_errors_name_file_key_and_reason(tmp_path):
    path = tmp_path / 'texts.yaml'
    path.write_text('texts:\n  hello: {de: Hallo, tr: Merhaba}\n')
    assert load_model(path, _File).texts['hello'].tr == 'Merhaba'
    cases = {
        'texts:\n  hello: {de: Hallo, tr: Merhaba, en: Hi}\n': r'texts\.hello\.en: unknown key \(allowed: de, tr\)',
        'texts:\n  hello: {de: Hallo}\n': r'texts\.hello\.tr: required key is missing',
        'texts: {}\nrate: fast\n': r"rate: input should be a valid number, got str 'fast'",
        'texts: {}\nrtae: 2\n': r'rtae: unknown key \(allowed: rate, texts\)',
        'txets: {}\n': r'txets: unknown key \(allowed: rate, texts\)',  # not 'texts: required key is missing'
        'texts: [1, 2\n': r'line 2: invalid YAML',
    }
    for text, message in cases.items():
        path.write_text(text)
        with pytest.raises(ConfigError, match=message):
            load_model(path, _File)
    with pytest.raises(ConfigError, match='file not found'):
        load_model(tmp_path / 'missing.yaml', _File)
