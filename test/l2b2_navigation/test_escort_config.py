"""The escort's and the tracker's config files: every key is a declared parameter, texts are complete."""
from __future__ import annotations

import pytest

from l2b2_common.config import ConfigError, config_path, load_yaml
from l2b2_common.tunables import describe
from l2b2_navigation.escort import TEXT_KEYS, EscortConfig, load_texts
from l2b2_navigation.escort_node import EscortNodeParams
from l2b2_navigation.person_tracker import DetectorConfig, ProximityMonitor, TrackerConfig
from l2b2_navigation.person_tracker_node import TrackerNodeParams

ESCORT_PARAMS = describe(EscortNodeParams) + describe(EscortConfig)
TRACKER_PARAMS = (describe(TrackerNodeParams) + describe(DetectorConfig) + describe(TrackerConfig)
                  + describe(ProximityMonitor))


@pytest.mark.parametrize(('file', 'node', 'params'), [
    ('escort.yaml', 'escort', ESCORT_PARAMS),
    ('person_tracker.yaml', 'person_tracker', TRACKER_PARAMS),
])
def test_params_files_use_declared_names_and_valid_values(file, node, params):
    values = load_yaml(config_path(file))[node]['ros__parameters']
    declared = {p.name: p for p in params}
    assert set(values) <= set(declared), f'undeclared: {set(values) - set(declared)}'
    for name, value in values.items():
        p = declared[name]
        assert isinstance(value, type(p.default)) or (isinstance(p.default, float) and isinstance(value, int))
        assert p.min is None or value >= p.min
        assert p.max is None or value <= p.max


@pytest.mark.parametrize('params', [ESCORT_PARAMS, TRACKER_PARAMS])
def test_each_tunable_is_declared_once(params):
    names = [p.name for p in params]
    assert len(names) == len(set(names))


def test_texts_have_german_and_turkish_for_every_key():
    texts = load_texts(config_path('escort_texts.yaml'))
    assert set(texts) == set(TEXT_KEYS)
    assert texts['follow_me']['de'] == 'Bitte folgen Sie mir.'
    assert all({'de', 'tr'} <= set(by_lang) for by_lang in texts.values())


def test_missing_turkish_text_names_file_and_key(tmp_path):
    path = tmp_path / 'texts.yaml'
    path.write_text('follow_me: {de: Bitte folgen Sie mir.}\narrived: {de: a, tr: b}\nvisitor_lost: {de: a, tr: b}\n')
    with pytest.raises(ConfigError) as err:
        load_texts(path)
    assert err.value.key == 'follow_me.tr' and str(path) in str(err.value)
