"""The panel's tunables are declared once (``PanelParams``); config/panel.yaml sets only those, validly."""
from __future__ import annotations

from l2b2_common.config import config_path, load_yaml
from l2b2_common.tunables import describe, validated
from l2b2_panel.settings import PanelParams


def test_panel_yaml_sets_only_declared_tunables_with_valid_values():
    values = load_yaml(config_path('panel.yaml'))['panel']['ros__parameters']
    assert values.pop('use_sim_time') is False  # rclpy's own parameter: the panel runs on the wall clock
    params = validated(PanelParams, 'config/panel.yaml', **values)  # raises naming the key on a typo or range
    assert params.host == '127.0.0.1' and params.teleop_deadman_s == 0.3
    assert set(values) == {p.name for p in describe(PanelParams)}  # every tunable is shown in the file


def test_every_tunable_has_a_description():
    assert all(p.description for p in describe(PanelParams))
