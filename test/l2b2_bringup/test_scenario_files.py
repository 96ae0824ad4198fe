"""Scenario files: the shipped ones are valid, broken ones are named precisely."""
import textwrap

import pytest

from l2b2_bringup.scenario import load_scenario, load_scenarios
from l2b2_common.catalog import load_catalog
from l2b2_common.config import REPO_ROOT, ConfigError

REQUIRED_CLASSES = {'escort_de', 'escort_tr', 'checkin', 'ticket', 'language_switch', 'out_of_scope',
                    'visitor_lost', 'queue_down', 'estop', 'touch'}


def test_shipped_scenarios_load_and_cover_every_class():
    scenarios = load_scenarios([REPO_ROOT / 'scenarios'])
    assert REQUIRED_CLASSES <= {s.scenario_class for s in scenarios}
    targets = set(load_catalog().ids())
    for s in scenarios:
        for step in s.steps:
            if 'target' in step.args:
                assert step.args['target'] in targets, (s.name, step.where)


@pytest.mark.parametrize('body, key', [
    ('steps: []', 'steps'),
    ('steps: [{dance: {}}]', 'steps[0]'),
    ('steps: [{say: {text: hi, lang: de}}]', 'steps[0].say.lang'),
    ('steps: [{say: {text: hi, language: fr}}]', 'steps[0].say.language'),
    ('steps: [{appointment_system: explode}]', 'steps[0].appointment_system.action'),
    ('steps: [{expect_idle: {within_s: -1}}]', 'steps[0].expect_idle.within_s'),
])
def test_broken_scenario_names_file_and_key(tmp_path, body, key):
    path = tmp_path / 's.yaml'
    path.write_text(textwrap.dedent(body))
    with pytest.raises(ConfigError) as err:
        load_scenario(path)
    assert err.value.key == key and str(path) in str(err.value)


def test_short_forms(tmp_path):
    path = tmp_path / 's.yaml'
    path.write_text('steps: [{say: "hallo"}, {estop: true}, {expect_state: listening}]')
    s = load_scenario(path)
    assert [st.args for st in s.steps] == [{'text': 'hallo'}, {'engage': True}, {'state': 'listening'}]
