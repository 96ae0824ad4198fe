"""Config loading fails loudly and precisely; the shipped catalog is valid."""
import datetime as dt
import textwrap

import pytest

from l2b2_common.catalog import LANGUAGES, REQUIRED_LANGUAGES, load_catalog, other_language
from l2b2_common.config import ConfigError, load_yaml
from l2b2_common.privacy import redact

REQUIRED_TARGETS = {'pass_ausweis', 'meldestelle', 'auslaenderbehoerde', 'standesamt', 'fundbuero', 'parkausweis',
                    'gewerbeamt', 'kasse', 'abholterminal', 'info', 'wartebereich', 'wc', 'ausgang'}


def test_shipped_catalog_has_every_target_with_both_languages():
    catalog = load_catalog()
    assert set(catalog.ids()) == REQUIRED_TARGETS
    for target in catalog.targets.values():
        assert target.name['de'] and target.name['tr']
    assert catalog['wc'].always_open
    monday_9 = dt.datetime(2026, 11, 23, 9, 0)
    sunday_9 = dt.datetime(2026, 11, 22, 9, 0)
    assert catalog['pass_ausweis'].is_open(monday_9)
    assert not catalog['pass_ausweis'].is_open(sunday_9)


def test_shipped_catalog_speaks_every_language():
    # English is data: every target and service has an English name, every target English keywords.
    catalog = load_catalog()
    assert LANGUAGES == ('de', 'tr', 'en') and set(REQUIRED_LANGUAGES) <= set(LANGUAGES)
    for target in catalog.targets.values():
        assert all(target.name.get(lang) for lang in LANGUAGES), target.id
        assert all(service.name.get(lang) for service in target.services for lang in LANGUAGES), target.id
        assert target.keywords.get('en'), target.id


def test_a_name_missing_in_an_optional_language_is_shown_in_german(tmp_path):
    path = tmp_path / 'departments.yaml'
    path.write_text('targets: [{id: a, name: {de: Amt, tr: Daire}, opening_hours: always}]\n')
    target = load_catalog(path)['a']
    assert target.display_name('en') == 'Amt' and target.display_name('tr') == 'Daire'


def test_other_language_switches_between_german_and_turkish():
    # Callers (the dialogue's "switch language" without a name, the panel) rely on this meaning.
    assert (other_language('de'), other_language('tr'), other_language('en')) == ('tr', 'de', 'de')


def _catalog(tmp_path, body):
    path = tmp_path / 'departments.yaml'
    path.write_text(textwrap.dedent(body))
    return path


@pytest.mark.parametrize('body, key', [
    ('version: 1\ntargets: []', 'targets'),
    ('version: 2\ntargets: [{id: a}]', 'version'),
    ('targets: [{id: Bad-Id, name: {de: a, tr: b}, opening_hours: always}]', 'targets[0].id'),
    ('targets: [{id: a, name: {de: a}, opening_hours: always}]', 'targets[a].name.tr'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: {mon: ["9-12"]}}]', 'targets[a].opening_hours.mon[0]'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: {mon: ["12:00-09:00"]}}]',
     'targets[a].opening_hours.mon[0]'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: always, appointment: {scope_id: "x"}}]',
     'targets[a].appointment.scope_id'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: always, keywords: {de: "Pass"}}]',
     'targets[a].keywords.de'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: always, waypiont: x}]', 'targets[a].waypiont'),
    ('targets: [{id: a, name: {de: a, tr: b}, opening_hours: always}, {id: a, name: {de: a, tr: b}, '
     'opening_hours: always}]', 'targets[1].id'),
])
def test_broken_catalog_names_file_key_and_reason(tmp_path, body, key):
    path = _catalog(tmp_path, body)
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert err.value.key == key
    assert str(path) in str(err.value) and err.value.reason


def test_yaml_syntax_error_names_the_line(tmp_path):
    path = tmp_path / 'x.yaml'
    path.write_text('a: 1\nb: [unclosed\n')
    with pytest.raises(ConfigError, match=r'x.yaml: line \d+: invalid YAML'):
        load_yaml(path)


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='file not found'):
        load_yaml(tmp_path / 'nope.yaml')


def test_redaction_is_stable_within_a_run_and_hides_the_value():
    token = redact('4711', 'booking')
    assert token == redact('4711', 'booking')
    assert '4711' not in token and token.startswith('booking#')
    assert token != redact('4712', 'booking')
