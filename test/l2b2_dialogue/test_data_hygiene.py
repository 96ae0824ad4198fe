"""Data hygiene: a held-out sentence is new, and nothing but a benchmark reads a held-out file.

A held-out figure means something only if the sentences were never seen while tuning. Two ways to lose
that: a held-out sentence that is also in the dev set, the lexicon or the catalog (a copy, not a test),
and code that reads the held-out set outside a benchmark (a unit test gated on held-out accuracy invites
tuning on it). Both are checked here.

Exception, on purpose: this module itself opens the held-out files (``test/data/utterances_heldout*.tsv``),
only as data for these checks: it compares their normalised sentences with the dev set, lexicon and catalog
and checks their labels' format. It imports no NLU, runs no model and computes no accuracy, so it cannot
tell anyone how the robot does on them. (Stored hashes of the sentences would not avoid the read: a test
that the hashes are current must read the file anyway.)

Normalisation as the dialogue matches: lower case (Turkish dotted/dotless I handled), punctuation dropped,
whitespace collapsed, umlauts and Turkish letters folded (``läuft`` = ``laeuft`` = ``lauft``,
``kimliğimi`` = ``kimligimi``), via ``l2b2_dialogue.normalize``.
"""
from __future__ import annotations

from collections import Counter
import os
from pathlib import Path
import re

import pytest
import yaml

from l2b2_common.config import REPO_ROOT, config_path
from l2b2_dialogue import LEXICON_FILE
from l2b2_dialogue.normalize import fold, tokens

DATA_DIR = REPO_ROOT / 'test' / 'data'
DEV_FILE = DATA_DIR / 'utterances_dev.tsv'
HELDOUT_GLOB = 'utterances_heldout*.tsv'
HELDOUT_V8 = DATA_DIR / 'utterances_heldout_v8.tsv'
LANGUAGES = ('de', 'tr', 'en')
V8_MIN_PER_LANGUAGE = 120

#: Files that may name a held-out file: the benchmark modules of the product packages (``<pkg>/bench.py``,
#: ``<pkg>/bench_*.py``) and this module (see its docstring). Documentation (``*.md``) may name it too.
THIS_FILE = Path(__file__).resolve()
_BENCH_MODULE = re.compile(r'^l2b2_[a-z_]+/bench(_[a-z0-9_]+)?\.py$')
#: What reading a held-out file looks like in code: its file name, or the benchmark's constant for it.
_HELDOUT_REF = re.compile(r'utterances_heldout|HELDOUT')
_SKIP_DIRS = {'.git', '.venv', 'venv', 'build', 'install', 'log', 'node_modules', '__pycache__', '.pytest_cache',
              '.ruff_cache'}
_CODE_SUFFIXES = {'.py', '.sh', '.yaml', '.yml', '.toml', '.cfg', '.json', '.js', '.html', '.xml', '.txt', '.tsv'}


def normalise(text: str) -> str:
    """The comparison key of a sentence: the dialogue's tokens, each folded, joined by one space."""
    return ' '.join(fold(word) for word in tokens(text))


@pytest.fixture(scope='module')
def heldout_files() -> list[Path]:
    files = sorted(DATA_DIR.glob(HELDOUT_GLOB))
    assert files, f'no held-out file {HELDOUT_GLOB} in {DATA_DIR}'
    return files


def read_tsv(path: Path) -> list[tuple[int, list[str]]]:
    """``(line number, fields)`` of every non-comment line of a ``language intent target text`` file."""
    rows = []
    for n, line in enumerate(path.read_text(encoding='utf-8').splitlines(), 1):
        if line.strip() and not line.startswith('#'):
            rows.append((n, line.split('\t')))
    return rows


def dev_texts() -> list[str]:
    return [fields[-1] for _, fields in read_tsv(DEV_FILE)]


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for value in node.values() for s in _strings(value)]
    if isinstance(node, list):
        return [s for value in node for s in _strings(value)]
    return []


def lexicon_texts() -> list[str]:
    """Every word and phrase of the lexicon, whatever its section or language."""
    return _strings(yaml.safe_load(LEXICON_FILE.read_text(encoding='utf-8')))


def catalog() -> dict:
    return yaml.safe_load(config_path('departments.yaml').read_text(encoding='utf-8'))


def catalog_texts() -> list[str]:
    """Every name and keyword of every target and service of the catalog, in every language."""
    out: list[str] = []
    for target in catalog()['targets']:
        for item in (target, *target.get('services', ())):
            out += _strings(item.get('name', {})) + _strings(item.get('keywords', {}))
    return out


def overlaps(sentences: list[tuple[str, str]], sources: dict[str, list[str]]) -> list[str]:
    """``where: sentence (also in source)`` for every ``(where, sentence)`` whose key occurs in a source."""
    keys = {name: {normalise(t) for t in texts} for name, texts in sources.items()}
    found = []
    for where, text in sentences:
        hit = [name for name, known in keys.items() if normalise(text) in known]
        if hit:
            found.append(f'{where}: {text!r} (also in {", ".join(hit)})')
    return found


def heldout_sentences(files: list[Path]) -> list[tuple[str, str]]:
    return [(f'{path.name}:{n}', fields[-1]) for path in files for n, fields in read_tsv(path)]


def test_normalisation_folds_case_punctuation_space_umlauts_and_turkish_letters():
    assert normalise('Meine Aufenthaltserlaubnis  läuft bald ab!') == normalise('meine aufenthaltserlaubnis laeuft bald ab')
    assert normalise('HAZIR OLAN KİMLİĞİMİ almak istiyorum.') == normalise('hazir olan kimligimi almak istiyorum')
    assert normalise('Fundbüro?') == normalise('fundbuero') != normalise('fundbüro bitte')


def test_the_overlap_check_finds_a_copy():
    # Not vacuous: a dev sentence, a lexicon phrase and a catalog keyword, respelled, are all found.
    sources = {'dev set': dev_texts(), 'lexicon': lexicon_texts(), 'catalog': catalog_texts()}
    copies = [('a', dev_texts()[0].upper() + ' ?'), ('b', 'Auf  Wiedersehen!'), ('c', 'KIMLIK KARTI')]
    assert len(overlaps(copies, sources)) == 3


def test_heldout_lines_are_labelled_with_known_languages_intents_and_targets(heldout_files):
    intents = {fields[1] for _, fields in read_tsv(DEV_FILE)}
    targets = {target['id'] for target in catalog()['targets']}
    bad = []
    for path in heldout_files:
        for n, fields in read_tsv(path):
            if len(fields) != 4:
                bad.append(f'{path.name}:{n}: {len(fields)} fields, not 4')
                continue
            lang, intent, target, text = fields
            if lang not in LANGUAGES or intent not in intents or (target != '-' and target not in targets):
                bad.append(f'{path.name}:{n}: label {lang} {intent} {target}')
            if intent == 'escort' and target == '-':
                bad.append(f'{path.name}:{n}: escort without a target')
            if not text.strip() or text != text.strip():
                bad.append(f'{path.name}:{n}: empty text or spaces around it')
    assert not bad, '\n'.join(bad)


def test_no_heldout_sentence_is_in_the_dev_set_lexicon_or_catalog(heldout_files):
    sources = {'dev set': dev_texts(), 'lexicon': lexicon_texts(), 'catalog': catalog_texts()}
    found = overlaps(heldout_sentences(heldout_files), sources)
    assert not found, 'held-out sentences that are not new:\n' + '\n'.join(found)


def test_no_sentence_twice_in_the_heldout_sets(heldout_files):
    counts = Counter(normalise(text) for _, text in heldout_sentences(heldout_files))
    assert not [k for k, n in counts.items() if n > 1]


def test_v8_is_marked_and_has_enough_sentences_per_language():
    # (Held-out v6 and v7 were each measured once and moved into the dev set; v8 is the blind set now.)
    head = HELDOUT_V8.read_text(encoding='utf-8').splitlines()[0]
    assert head.startswith('# set: v8'), 'the first line of the v8 file does not say "# set: v8"'
    per_language = Counter(fields[0] for _, fields in read_tsv(HELDOUT_V8))
    assert all(per_language[lang] >= V8_MIN_PER_LANGUAGE for lang in LANGUAGES), per_language


def _tree_files():
    """Code and config files of the repository (virtualenv, build output and caches pruned, not walked)."""
    for root, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            path = Path(root) / name
            rel = path.relative_to(REPO_ROOT)
            if path.suffix in _CODE_SUFFIXES or (rel.parts[0] == 'scripts' and not path.suffix):
                yield rel, path


def test_only_benchmark_modules_read_a_heldout_file():
    readers = []
    for rel, path in _tree_files():
        if path.resolve() == THIS_FILE or _BENCH_MODULE.match(rel.as_posix()) or rel.parts[:2] == ('test', 'data'):
            continue
        text = path.read_text(encoding='utf-8', errors='replace')
        if _HELDOUT_REF.search(text):
            readers.append(rel.as_posix())
    assert not readers, f'these files name a held-out file or the benchmark constant for it: {readers}'


def test_no_test_runs_the_dialogue_benchmark_on_the_heldout_set():
    # Running the dialogue benchmark reads the held-out set by default: a smoke test must point
    # ``--heldout`` at other data (a dev-set or a temporary file).
    via_cli = re.compile(r"""bench_main\(\[\s*['"]dialogue|['"]l2b2-bench['"],\s*['"]dialogue""")
    via_module = re.compile(r'from l2b2_dialogue import bench\b[\s\S]*\bbench\.run\(|'
                            r'from l2b2_dialogue\.bench import[^\n]*\brun\b')
    offenders = []
    for path in sorted((REPO_ROOT / 'test').rglob('*.py')):
        if path.resolve() == THIS_FILE:
            continue
        text = path.read_text(encoding='utf-8')
        if (via_cli.search(text) or via_module.search(text)) and '--heldout' not in text:
            offenders.append(path.relative_to(REPO_ROOT).as_posix())
    assert not offenders, offenders
