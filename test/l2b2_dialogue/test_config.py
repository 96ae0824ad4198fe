"""The catalog, responses and lexicon load, agree with each other, and fail loudly when broken."""
from __future__ import annotations

from pathlib import Path
import shutil

import pytest
import yaml

from l2b2_common.catalog import LANGUAGES, load_catalog
from l2b2_common.config import ConfigError, config_path
from l2b2_dialogue.nlu import LEXICON_FILE, Understander
from l2b2_dialogue.responses import load_responses

TARGET_IDS = ['pass_ausweis', 'meldestelle', 'auslaenderbehoerde', 'standesamt', 'fundbuero', 'parkausweis',
              'gewerbeamt', 'kasse', 'abholterminal', 'info', 'wartebereich', 'wc', 'ausgang']


def test_catalog_has_the_agreed_targets_with_words_in_both_languages():
    catalog = load_catalog()
    assert catalog.ids() == TARGET_IDS
    for target in catalog.targets.values():
        assert set(target.keywords) >= {'de', 'tr'}, target.id
    assert all(t.services for t in catalog.targets.values() if t.scope_id is not None)
    services = [s for t in catalog.targets.values() for s in t.services]
    assert len({s.id for s in services}) == len(services)


def test_every_target_has_a_way_to_say_to_it():
    responses = load_responses()
    for lang in ('de', 'tr'):
        for tid in TARGET_IDS:
            assert tid in responses.by_language[lang].to_target, (lang, tid)


def _copy_responses(tmp_path: Path) -> Path:
    for lang in LANGUAGES:
        shutil.copy(config_path(f'responses_{lang}.yaml'), tmp_path / f'responses_{lang}.yaml')
    return tmp_path


def test_missing_translation_names_file_and_key(tmp_path):
    d = _copy_responses(tmp_path)
    data = yaml.safe_load((d / 'responses_tr.yaml').read_text(encoding='utf-8'))
    del data['texts']['farewell']
    (d / 'responses_tr.yaml').write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError) as err:
        load_responses(directory=d)
    assert 'responses_tr.yaml' in str(err.value) and 'texts.farewell' in str(err.value)


def test_placeholder_mismatch_is_rejected(tmp_path):
    d = _copy_responses(tmp_path)
    data = yaml.safe_load((d / 'responses_tr.yaml').read_text(encoding='utf-8'))
    data['texts']['confirm_escort'] = 'Sizi {hedef} götüreyim mi?'
    (d / 'responses_tr.yaml').write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError, match='texts.confirm_escort.*placeholders'):
        load_responses(directory=d)


def test_broken_catalog_names_file_key_and_reason(tmp_path):
    data = yaml.safe_load(config_path('departments.yaml').read_text(encoding='utf-8'))
    data['targets'][2]['services'][0]['keywords']['de'] = 'not a list'
    path = tmp_path / 'departments.yaml'
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError) as err:
        load_catalog(path)
    assert str(path) in str(err.value) and 'auslaenderbehoerde' in str(err.value) and 'keywords.de' in str(err.value)


def test_broken_lexicon_names_file_and_key(tmp_path):
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding='utf-8'))
    data['intents']['affirm']['de'].append(True)
    path = tmp_path / 'lexicon.yaml'
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError, match='intents.affirm.de'):
        Understander(load_catalog(), lexicon_path=path)


def test_misspelt_lexicon_key_names_file_key_and_the_allowed_keys(tmp_path):
    data = yaml.safe_load(LEXICON_FILE.read_text(encoding='utf-8'))
    data['intents']['afirm'] = data['intents']['affirm']
    path = tmp_path / 'lexicon.yaml'
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError) as err:
        Understander(load_catalog(), lexicon_path=path)
    assert err.value.path == str(path) and err.value.key == 'intents.afirm'
    assert err.value.reason.startswith('unknown key (allowed:') and 'affirm' in err.value.reason


def test_misspelt_or_empty_response_names_file_and_key(tmp_path):
    d = _copy_responses(tmp_path)
    data = yaml.safe_load((d / 'responses_de.yaml').read_text(encoding='utf-8'))
    data['to_targets'] = data.pop('to_target')
    (d / 'responses_de.yaml').write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError, match=r'responses_de.yaml: to_targets: unknown key \(allowed:'):
        load_responses(directory=d)
    data['to_target'] = data.pop('to_targets')
    data['texts']['farewell'] = '  '
    (d / 'responses_de.yaml').write_text(yaml.safe_dump(data, allow_unicode=True), encoding='utf-8')
    with pytest.raises(ConfigError, match='texts.farewell: must be a non-empty text'):
        load_responses(directory=d)


def test_every_key_of_the_dialogue_params_file_is_a_declared_tunable():
    from l2b2_common.tunables import describe, validated
    from l2b2_dialogue.dialogue_node import DialogueNodeParams
    from l2b2_dialogue.settings import Settings

    values = yaml.safe_load(config_path('dialogue.yaml').read_text(encoding='utf-8'))['dialogue']['ros__parameters']
    assert values.pop('use_sim_time') is False  # rclpy's own parameter: a conversation runs on the wall clock
    settings = {p.name for p in describe(Settings)}
    node = {p.name for p in describe(DialogueNodeParams)}
    assert set(values) <= settings | node and not settings & node
    validated(Settings, **{k: v for k, v in values.items() if k in settings})
    validated(DialogueNodeParams, **{k: v for k, v in values.items() if k in node})
