"""``l2b2-bench dialogue``: NLU accuracy per language and intent, confusions, latency per utterance.

Reads the labelled utterance sets in ``test/data/`` (development set and held-out sets). The held-out
sets were never used for tuning, so ``accuracy_de``/``accuracy_tr`` (held-out v4 + v5) are the honest
figures; the development set's are reported beside them. The per-language blind set (``--heldout-lang``:
held-out v8 since 2026-12-06; v6 and v7 were each measured once and moved into the dev set) gives, per language,
``heldout_accuracy_<lang>`` (right without asking, or asked with the right place among the two choices),
``confident_wrong_rate_<lang>`` (a wrong intent or target given without asking), ``clarify_rate_<lang>``
(answered with a question between places) and ``heldout_direct_accuracy_<lang>`` (right without asking).
``langdet_accuracy_de``/``_tr``: language detection on the catalog's names and keywords (see
:func:`langdet_accuracy`); ``langdet_accuracy_heldout_*`` on the held-out utterances.
"""
from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
import time

from l2b2_common.bench import BenchResult, percentile
from l2b2_common.catalog import LANGUAGES, other_language
from l2b2_common.config import REPO_ROOT
from l2b2_dialogue.catalog_words import catalog_texts
from l2b2_dialogue.nlu import Understander, Understanding

DATA_DIR = REPO_ROOT / 'test' / 'data'
DEV_FILE = DATA_DIR / 'utterances_dev.tsv'
HELDOUT_FILE = DATA_DIR / 'utterances_heldout.tsv'
#: The per-language blind set: v8 (written 2026-12-06). A set once measured and looked at moves into the dev set.
HELDOUT_LANG_FILE = DATA_DIR / 'utterances_heldout_v8.tsv'
#: Intents whose target is part of the answer (None must then be None too).
TARGET_INTENTS = ('escort', 'ticket', 'opening_hours', 'appointment_checkin')


@dataclass(frozen=True)
class Example:
    language: str
    intent: str
    target: str | None
    text: str


def load_examples(path: str | Path) -> list[Example]:
    """Tab-separated ``language intent target text`` lines; ``-`` for no target, ``#`` comments."""
    out = []
    for n, line in enumerate(Path(path).read_text(encoding='utf-8').splitlines(), 1):
        if not line.strip() or line.startswith('#'):
            continue
        parts = line.split('\t')
        if len(parts) != 4:
            raise ValueError(f'{path}:{n}: expected 4 tab-separated fields, got {len(parts)}')
        lang, intent, target, text = parts
        out.append(Example(lang, intent, None if target == '-' else target, text))
    return out


def is_correct(example: Example, result: Understanding) -> bool:
    if result.intent != example.intent:
        return False
    return example.intent not in TARGET_INTENTS or result.target == example.target


def choices_asked(result: Understanding, threshold: float, min_candidate: float = 0.15) -> list[str]:
    """The places the robot asks between, as the engine does: the two-choice question, or an unsure place's
    candidates (at least two above ``min_candidate``); empty when it answers (or re-prompts) instead."""
    if result.clarify:
        return list(result.clarify)
    if result.intent == 'escort' and result.confidence < threshold:
        offered = [t for t, c in result.candidates if c >= min_candidate][:2]
        return offered if len(offered) == 2 else []
    return []


def outcome(example: Example, result: Understanding, threshold: float) -> str:
    """'right', 'asked_right' (the right place is one of the choices), 'asked_wrong', 'unsure_wrong' (the
    robot says it did not understand) or 'confident_wrong' (a wrong intent or target given without asking)."""
    choices = choices_asked(result, threshold)
    if choices:
        return 'asked_right' if example.intent == 'escort' and example.target in choices else 'asked_wrong'
    if is_correct(example, result):
        return 'right'
    if result.confidence < threshold and (result.intent == 'out_of_scope' or not result.candidates):
        return 'unsure_wrong'  # "I did not understand, say it again": no walk across the office
    return 'confident_wrong'


def per_language_outcomes(nlu: Understander, examples: list[Example]) -> dict[str, float]:
    """The blind set's figures per language: heldout_accuracy, confident_wrong_rate, clarify_rate, direct accuracy."""
    counts: dict[str, Counter] = defaultdict(Counter)
    for ex in examples:
        counts[ex.language][outcome(ex, nlu.understand(ex.text, ex.language), nlu.threshold)] += 1
    figures: dict[str, float] = {}
    for lang in LANGUAGES:
        c = counts.get(lang, Counter())
        n = sum(c.values())

        def rate(*kinds: str, c: Counter = c, n: int = n) -> float:
            return sum(c[k] for k in kinds) / n if n else float('nan')
        figures[f'heldout_accuracy_{lang}'] = rate('right', 'asked_right')
        figures[f'heldout_direct_accuracy_{lang}'] = rate('right')
        figures[f'confident_wrong_rate_{lang}'] = rate('confident_wrong')
        figures[f'clarify_rate_{lang}'] = rate('asked_right', 'asked_wrong')
        figures[f'n_heldout_lang_{lang}'] = n
    return figures


def evaluate(nlu: Understander, examples: list[Example], repeat: int = 1) -> dict:
    """Accuracy per language and intent, confusions, and per-utterance latency in ms.

    Latency: ``latencies`` (wall clock) as in service (word caches filled by earlier utterances),
    ``cpu`` the same in CPU time of this thread (what a busy machine cannot inflate), ``cold`` with all
    caches cleared before the utterance (the worst case for a never-heard sentence).
    """
    per_lang: dict[str, list[bool]] = defaultdict(list)
    per_intent: dict[str, list[bool]] = defaultdict(list)
    confusions: Counter = Counter()
    latencies: list[float] = []
    cpu: list[float] = []
    cold: list[float] = []
    failures = []
    for ex in examples:
        result = None
        for _ in range(repeat):
            t0, c0 = time.perf_counter(), time.thread_time()
            result = nlu.understand(ex.text, ex.language)
            latencies.append((time.perf_counter() - t0) * 1000.0)
            cpu.append((time.thread_time() - c0) * 1000.0)
        ok = is_correct(ex, result)
        per_lang[ex.language].append(ok)
        per_intent[ex.intent].append(ok)
        if not ok:
            expected = f'{ex.intent}:{ex.target or "-"}'
            got = f'{result.intent}:{result.target or "-"}'
            confusions[(expected, got)] += 1
            failures.append((ex, result))
    for ex in examples:
        nlu.clear_caches()
        t0 = time.perf_counter()
        nlu.understand(ex.text, ex.language)
        cold.append((time.perf_counter() - t0) * 1000.0)
    return {'per_lang': per_lang, 'per_intent': per_intent, 'confusions': confusions, 'latencies': latencies,
            'cpu': cpu, 'cold': cold, 'failures': failures}


def langdet_accuracy(nlu: Understander, examples: list[Example] | None = None) -> dict[str, float]:
    """Language detection accuracy per language, strict: the default is the other language, so a tie is wrong.

    Without ``examples``: every name and keyword of the catalog (targets and services), each one left out
    of its own language's word list while it is detected (otherwise the detector would only look it up).
    With ``examples``: their texts, as the visitors said them.
    """
    out = {}
    detector = nlu.language_detector
    for lang in LANGUAGES:
        other = other_language(lang)
        if examples is None:
            texts = catalog_texts(nlu.catalog, lang)
            right = [detector.detect(t, other, unseen=lang) == lang for t in texts]
        else:
            right = [nlu.detect_language(e.text, other) == lang for e in examples if e.language == lang]
        out[lang] = _acc(right)
    return out


def _acc(values: list[bool]) -> float:
    return sum(values) / len(values) if values else float('nan')


def run(argv: list[str]) -> BenchResult:
    parser = argparse.ArgumentParser(prog='l2b2-bench dialogue')
    parser.add_argument('--dev', default=str(DEV_FILE), help='development (tuning) set')
    parser.add_argument('--heldout', default=str(HELDOUT_FILE), help='held-out set, never tuned on')
    parser.add_argument('--heldout-lang', default=str(HELDOUT_LANG_FILE),
                        help='per-language blind set (de, tr, en; held-out v8) for the per-language figures, never '
                             'tuned on')
    parser.add_argument('--repeat', type=int, default=1, help='runs per utterance for the in-service latency')
    parser.add_argument('--limit', type=int, default=0, help='use only the first N utterances of each set (smoke)')
    parser.add_argument('--show-failures', action='store_true', help='list every misunderstood utterance')
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    nlu = Understander()
    load_ms = (time.perf_counter() - t0) * 1000.0
    dev, held, blind = load_examples(args.dev), load_examples(args.heldout), load_examples(args.heldout_lang)
    if args.limit:
        dev, held, blind = dev[:args.limit], held[:args.limit], blind[:args.limit]
    nlu.clear_caches()
    r_dev = evaluate(nlu, dev, args.repeat)
    r_held = evaluate(nlu, held, args.repeat)
    r_lang = evaluate(nlu, blind, args.repeat)

    rows = []
    for intent in sorted(set(r_dev['per_intent']) | set(r_held['per_intent'])):  # (blind set: per language, below)
        d, h = r_dev['per_intent'].get(intent, []), r_held['per_intent'].get(intent, [])
        rows.append({'intent': intent, 'dev_n': len(d), 'dev_acc': _acc(d), 'heldout_n': len(h),
                     'heldout_acc': _acc(h)})
    latencies = r_dev['latencies'] + r_held['latencies'] + r_lang['latencies']
    cold = r_dev['cold'] + r_held['cold'] + r_lang['cold']
    cpu = r_dev['cpu'] + r_held['cpu'] + r_lang['cpu']
    figures = {
        'accuracy_de': _acc(r_held['per_lang'].get('de', [])),
        'accuracy_tr': _acc(r_held['per_lang'].get('tr', [])),
        'accuracy_dev_de': _acc(r_dev['per_lang'].get('de', [])),
        'accuracy_dev_tr': _acc(r_dev['per_lang'].get('tr', [])),
        'n_heldout_de': len(r_held['per_lang'].get('de', [])),
        'n_heldout_tr': len(r_held['per_lang'].get('tr', [])),
        'n_dev_de': len(r_dev['per_lang'].get('de', [])),
        'n_dev_tr': len(r_dev['per_lang'].get('tr', [])),
        'accuracy_dev_en': _acc(r_dev['per_lang'].get('en', [])),
        'n_dev_en': len(r_dev['per_lang'].get('en', [])),
        'latency_p50_ms': percentile(latencies, 50),
        'latency_p99_ms': percentile(latencies, 99),
        'latency_max_ms': max(latencies) if latencies else float('nan'),
        'latency_cpu_p50_ms': percentile(cpu, 50),
        'latency_cpu_p99_ms': percentile(cpu, 99),
        'latency_cold_p50_ms': percentile(cold, 50),
        'latency_cold_p99_ms': percentile(cold, 99),
        'load_ms': load_ms,
    }
    figures.update(per_language_outcomes(nlu, blind))
    catalog_langdet, heldout_langdet = langdet_accuracy(nlu), langdet_accuracy(nlu, held)
    lang_langdet = langdet_accuracy(nlu, blind)
    for lang in LANGUAGES:
        figures[f'langdet_accuracy_{lang}'] = catalog_langdet[lang]
        figures[f'langdet_accuracy_heldout_{lang}'] = heldout_langdet[lang]
        figures[f'langdet_accuracy_heldout_lang_{lang}'] = lang_langdet[lang]
    confusions = r_dev['confusions'] + r_held['confusions'] + r_lang['confusions']
    notes = ['', 'confusions (expected -> got, count):' if confusions else 'confusions: none']
    notes += [f'  {exp} -> {got}  x{n}' for (exp, got), n in confusions.most_common(15)]
    if args.show_failures:
        notes.append('failures:')
        notes += [f'  [{ex.language}] {ex.text!r}: expected {ex.intent}:{ex.target}, got {res.intent}:{res.target} '
                  f'({res.confidence:.2f})' for ex, res in r_dev['failures'] + r_held['failures'] + r_lang['failures']]
    figures['confusions'] = {f'{e} -> {g}': n for (e, g), n in confusions.items()}
    return BenchResult('dialogue NLU: accuracy (held-out / dev) and latency per utterance', figures, rows, notes)
