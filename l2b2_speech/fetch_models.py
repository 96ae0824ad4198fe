"""``l2b2-fetch-models``: the deployer's download of the official German/Turkish Vosk models and Piper voices.

Run once where internet exists (never at run time on the robot): downloads, verifies checksums,
unpacks into a models folder and writes the paths into config/speech_models.yaml (comments kept).

Checksums: Piper voices are checked against the MD5 digests the official ``voices.json`` of the same
release publishes, and against a sha256 when one is pinned. Vosk publishes no checksums: pin one with
``--sha256 vosk-de=<hex>`` (e.g. from a previous, trusted download) or accept the first download with
``--trust-unpinned``; the script prints every sha256 so the deployer can pin it for the next robot.

    l2b2-fetch-models                       # de + tr, Vosk and Piper, into ~/.local/share/l2b2/models
    l2b2-fetch-models --languages de --only piper
    l2b2-fetch-models --mirror https://models.example.org/  # same file layout on a local mirror
"""
from __future__ import annotations

import argparse
from dataclasses import dataclass
import hashlib
import json
import os
from pathlib import Path
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
import zipfile

from l2b2_common.config import config_path

VOSK_BASE = 'https://alphacephei.com/vosk/models/'
PIPER_BASE = 'https://huggingface.co/rhasspy/piper-voices/resolve/v1.0.0/'


@dataclass(frozen=True)
class ModelSpec:
    key: str          # e.g. "vosk-de"
    kind: str         # "vosk" | "piper"
    language: str
    base: str
    files: tuple[str, ...]  # paths relative to base
    sha256: dict[str, str] | None = None  # pinned, per file name


MANIFEST: tuple[ModelSpec, ...] = (
    ModelSpec('vosk-de', 'vosk', 'de', VOSK_BASE, ('vosk-model-small-de-0.15.zip',)),
    ModelSpec('vosk-tr', 'vosk', 'tr', VOSK_BASE, ('vosk-model-small-tr-0.3.zip',)),
    ModelSpec('piper-de', 'piper', 'de', PIPER_BASE, ('de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx',
                                                      'de/de_DE/thorsten/medium/de_DE-thorsten-medium.onnx.json')),
    ModelSpec('piper-tr', 'piper', 'tr', PIPER_BASE, ('tr/tr_TR/dfki/medium/tr_TR-dfki-medium.onnx',
                                                      'tr/tr_TR/dfki/medium/tr_TR-dfki-medium.onnx.json')),
)


class FetchError(RuntimeError):
    pass


def default_dest() -> Path:
    return Path(os.environ.get('XDG_DATA_HOME', Path.home() / '.local' / 'share')) / 'l2b2' / 'models'


def download(url: str, dest: Path, timeout: float = 60.0) -> tuple[str, str]:
    """Stream ``url`` to ``dest``; returns (sha256, md5). Network problems raise FetchError."""
    sha, md5 = hashlib.sha256(), hashlib.md5()
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response, open(dest, 'wb') as out:
            while block := response.read(1 << 20):
                sha.update(block)
                md5.update(block)
                out.write(block)
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        reason = getattr(exc, 'reason', exc)
        raise FetchError(f'cannot download {url}: {reason}. Run l2b2-fetch-models where internet exists, or '
                         f'copy the models by hand and set their paths in config/speech_models.yaml.') from None
    return sha.hexdigest(), md5.hexdigest()


def verify(name: str, sha256: str, md5: str, pinned_sha256: str | None, official_md5: str | None,
           trust_unpinned: bool) -> str:
    """Raise FetchError on a mismatch or (unless trusted) when nothing can be checked; returns what was checked."""
    if pinned_sha256 and sha256 != pinned_sha256.lower():
        raise FetchError(f'{name}: sha256 {sha256} does not match the pinned {pinned_sha256}')
    if official_md5 and md5 != official_md5.lower():
        raise FetchError(f'{name}: md5 {md5} does not match the published {official_md5}')
    if pinned_sha256:
        return 'sha256 pinned'
    if official_md5:
        return 'md5 published'
    if not trust_unpinned:
        raise FetchError(f'{name}: no checksum to verify against (sha256 is {sha256}); pin it with '
                         f'--sha256 KEY={sha256} or accept it with --trust-unpinned')
    return 'UNPINNED (trusted on first use)'


def piper_digests(base: str, timeout: float) -> dict[str, str]:
    """md5 per file from the official voices.json of the release."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / 'voices.json'
        download(base + 'voices.json', path, timeout)
        voices = json.loads(path.read_text(encoding='utf-8'))
    return {f: info.get('md5_digest', '') for voice in voices.values() for f, info in voice.get('files', {}).items()}


_SECTION = re.compile(r'^(\w+):\s*(#.*)?$')
_ENTRY = re.compile(r'^(\s+)(\w+):(\s*)(.*?)(\s+#.*)?$')


def write_model_paths(config_file: Path, updates: dict[tuple[str, str], str]) -> None:
    """Set ``section.language: path`` in the YAML file, keeping its comments and order."""
    lines = config_file.read_text(encoding='utf-8').splitlines()
    pending = dict(updates)
    out: list[str] = []
    section = None

    def flush_section():
        for (sec, lang), value in list(pending.items()):
            if sec == section:
                out.append(f'  {lang}: {json.dumps(value, ensure_ascii=False)}')
                del pending[(sec, lang)]

    for line in lines:
        m = _SECTION.match(line)
        if m:
            flush_section()
            section = m.group(1)
            out.append(line)
            continue
        e = _ENTRY.match(line)
        if e and section and (section, e.group(2)) in pending:
            value = pending.pop((section, e.group(2)))
            out.append(f'{e.group(1)}{e.group(2)}: {json.dumps(value, ensure_ascii=False)}{e.group(5) or ""}')
            continue
        out.append(line)
    flush_section()
    for (sec, lang), value in pending.items():
        out.extend([f'{sec}:', f'  {lang}: {json.dumps(value, ensure_ascii=False)}'])
    config_file.write_text('\n'.join(out) + '\n', encoding='utf-8')


def fetch(spec: ModelSpec, dest: Path, *, mirror: str | None, pins: dict[str, str], trust_unpinned: bool,
          timeout: float, log=print) -> Path:
    base = mirror or spec.base
    digests = piper_digests(base, timeout) if spec.kind == 'piper' else {}
    target = dest / spec.kind
    target.mkdir(parents=True, exist_ok=True)
    result = None
    with tempfile.TemporaryDirectory(dir=dest) as tmp:
        for rel in spec.files:
            name = rel.rsplit('/', 1)[-1]
            tmp_file = Path(tmp) / name
            log(f'downloading {base + rel}')
            sha, md5 = download(base + rel, tmp_file, timeout)
            pinned = (pins.get(f'{spec.key}:{name}') or (pins.get(spec.key) if len(spec.files) == 1 else None)
                      or (spec.sha256 or {}).get(name))
            how = verify(name, sha, md5, pinned, digests.get(rel), trust_unpinned)
            log(f'  {name}: sha256 {sha} ({how})')
            if name.endswith('.zip'):
                with zipfile.ZipFile(tmp_file) as z:
                    top = {n.split('/', 1)[0] for n in z.namelist()}
                    if len(top) != 1:
                        raise FetchError(f'{name}: expected one top-level folder, found {sorted(top)}')
                    folder = target / top.pop()
                    if folder.exists():
                        shutil.rmtree(folder)
                    z.extractall(target)
                result = folder
            else:
                shutil.move(str(tmp_file), target / name)
                if name.endswith('.onnx'):
                    result = target / name
    if result is None:
        raise FetchError(f'{spec.key}: nothing usable downloaded')
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog='l2b2-fetch-models', description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    parser.add_argument('--languages', nargs='+', default=['de', 'tr'], choices=['de', 'tr'])
    parser.add_argument('--only', choices=['vosk', 'piper'], help='fetch only this kind')
    parser.add_argument('--dest', type=Path, default=default_dest(), help='models folder (default: %(default)s)')
    parser.add_argument('--config', type=Path, default=None, help='speech_models.yaml to update (default: config/)')
    parser.add_argument('--mirror', help='base URL (or file:// folder) with the same layout, instead of the official')
    parser.add_argument('--sha256', action='append', default=[], metavar='KEY=HEX',
                        help='pin a checksum, KEY like vosk-de or piper-de:de_DE-thorsten-medium.onnx')
    parser.add_argument('--trust-unpinned', action='store_true', help='accept downloads without any checksum')
    parser.add_argument('--timeout', type=float, default=60.0)
    args = parser.parse_args(argv)
    pins = {}
    for item in args.sha256:
        key, sep, value = item.partition('=')
        if not sep or not re.fullmatch(r'[0-9a-fA-F]{64}', value):
            parser.error(f'--sha256 {item!r}: expected KEY=<64 hex digits>')
        pins[key] = value.lower()
    config_file = args.config or config_path('speech_models.yaml')
    args.dest.mkdir(parents=True, exist_ok=True)
    updates: dict[tuple[str, str], str] = {}
    try:
        for spec in MANIFEST:
            if spec.language in args.languages and args.only in (None, spec.kind):
                path = fetch(spec, args.dest, mirror=args.mirror, pins=pins, trust_unpinned=args.trust_unpinned,
                             timeout=args.timeout)
                updates[(spec.kind, spec.language)] = str(path)
    except (FetchError, zipfile.BadZipFile, json.JSONDecodeError) as exc:
        print(f'l2b2-fetch-models: {exc}', file=sys.stderr)
        if updates:
            write_model_paths(config_file, updates)
            print(f'(the models fetched before the failure are written to {config_file})', file=sys.stderr)
        return 2
    write_model_paths(config_file, updates)
    print(f'wrote {len(updates)} model paths to {config_file}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
