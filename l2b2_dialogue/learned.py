"""The learned layer beside the rules: a character n-gram classifier of what a visitor wants.

The rules (:mod:`l2b2_dialogue.nlu`) know exactly the words of the catalog and the lexicon; visitors
use others ("mein Kind ist gestern zur Welt gekommen", "the machine says my locker is empty"). A linear
model on character n-grams (TF-IDF ``char_wb`` 2-5: compounds, suffixes, typos and ASR spellings share
n-grams with the words it was trained on) and on word uni- and bigrams gives every label a calibrated
probability, so the understanding can tell a confident answer from a guess and ask instead of guessing.

Labels: ``escort:<target>`` for a place, else the intent (``opening_hours``, ``ticket``, ...). Training
data is the project's own, nothing else: the development set (``test/data/utterances_dev.tsv``), the
catalog's names and keywords, the lexicon's intent phrases, and paraphrases from templates × those
keywords (:data:`TEMPLATES`, per language). Training is deterministic (fixed order, fixed solver, no
random state) and takes 5-20 s on one core; the model is trained once per machine and kept in
a cache file named by a hash of its training data and the scikit-learn version
(``$XDG_CACHE_HOME/l2b2``), so a changed keyword retrains it and an unchanged one loads in milliseconds.
No network, CPU only; predicting one utterance takes well under a millisecond.
"""
from __future__ import annotations

from collections import Counter
import hashlib
import math
import os
from pathlib import Path
import pickle
import tempfile

import numpy as np

from l2b2_common.catalog import LANGUAGES, Catalog
from l2b2_common.config import REPO_ROOT
from l2b2_dialogue.lexicon import LEXICON_INTENTS, Lexicon
from l2b2_dialogue.normalize import Utterance

DEV_FILE = REPO_ROOT / 'test' / 'data' / 'utterances_dev.tsv'
MODEL_VERSION = 2
#: Paraphrase templates per language: ``{k}`` is a keyword or name of a target (label ``escort:<target>``).
TEMPLATES: dict[str, tuple[str, ...]] = {
    'de': ('wo ist {k}', 'ich suche {k}', 'ich brauche {k}', 'wegen {k}', 'ich möchte {k}', 'es geht um {k}',
           'wohin wegen {k}', '{k} bitte'),
    'tr': ('{k} nerede', '{k} lazım', '{k} için geldim', '{k} istiyorum', '{k} konusunda', '{k} için nereye',
           '{k} lütfen', 'nereye gitmeliyim {k}'),
    'en': ('where is {k}', 'I need {k}', 'I am looking for {k}', 'I am here about {k}', 'I want {k}',
           'it is about {k}', 'where do I go for {k}', '{k} please'),
}
#: Intent templates per language: ``{n}`` is a target's name.
INTENT_TEMPLATES: dict[str, dict[str, tuple[str, ...]]] = {
    'opening_hours': {'de': ('wann hat {n} geöffnet', 'öffnungszeiten {n}', 'wie lange ist {n} offen'),
                      'tr': ('{n} kaçta açılıyor', '{n} çalışma saatleri', '{n} saat kaça kadar açık'),
                      'en': ('when is {n} open', 'opening hours of {n}', 'until when is {n} open')},
    'ticket': {'de': ('ich möchte eine wartenummer für {n}', 'nummer ziehen für {n}'),
               'tr': ('{n} için sıra numarası', '{n} için numara almak istiyorum'),
               'en': ('I would like a waiting number for {n}', 'a ticket for {n} please')},
}


def label_of(intent: str, target: str | None) -> str:
    return f'escort:{target}' if intent == 'escort' and target else intent


#: Titles before a surname ("Herrn Meier", "Ms Smith") and, in Turkish, after it ("Yılmaz Bey", "Ayşe Hanım"),
#: folded: the model reads the title, never the name, so that a surname said alone (a check-in asks for it)
#: is not taken for a request to see that person.
_TITLES_BEFORE = frozenset({'frau', 'herr', 'herrn', 'ms', 'mr', 'mrs', 'miss', 'dr'})
_TITLES_AFTER = ('bey', 'hanim')


def features_text(text: str | Utterance, language: str) -> str:
    """What the model reads: the folded words (the same spelling-neutral form the rules match), names after
    (Turkish: before) a title left out."""
    u = text if isinstance(text, Utterance) else Utterance(text)
    words = u.folded(language)
    drop = set()
    for i, w in enumerate(words):
        if w in _TITLES_BEFORE and i + 1 < len(words):
            drop.add(i + 1)
        elif i > 0 and any(w.startswith(t) and len(w) <= len(t) + 4 for t in _TITLES_AFTER):
            drop.add(i - 1)
    return ' '.join(w for i, w in enumerate(words) if i not in drop)


def training_examples(catalog: Catalog, lexicon: Lexicon, dev_file: str | Path = DEV_FILE) -> list[tuple[str, str]]:
    """(text, label) pairs from the project's own labelled data, in a fixed order."""
    out: list[tuple[str, str]] = []
    path = Path(dev_file)
    if path.exists():
        for line in path.read_text(encoding='utf-8').splitlines():
            parts = line.split('\t')
            if line.startswith('#') or len(parts) != 4 or parts[0] not in LANGUAGES:
                continue
            lang, intent, target, text = parts
            out.append((features_text(text, lang), label_of(intent, None if target == '-' else target)))
    for target in catalog.targets.values():
        label = f'escort:{target.id}'
        for lang in LANGUAGES:
            words = [target.name.get(lang, ''), *target.keywords.get(lang, ())]
            for service in target.services:
                words += [service.name.get(lang, ''), *service.keywords.get(lang, ())]
            for k, word in enumerate(w for w in words if w):
                out.append((features_text(word, lang), label))
                # Every template with every keyword would drown the dev set: each keyword gets two.
                templates = TEMPLATES.get(lang, ())
                if templates:
                    for template in (templates[k % len(templates)], templates[(k + 3) % len(templates)]):
                        out.append((features_text(template.format(k=word), lang), label))
            for intent, per_lang in INTENT_TEMPLATES.items():
                for template in per_lang.get(lang, ()):
                    out.append((features_text(template.format(n=target.name.get(lang, '')), lang), intent))
    for intent in LEXICON_INTENTS:
        for lang in LANGUAGES:
            for phrase in lexicon.intent_phrases(intent, lang):
                out.append((features_text(phrase, lang), intent))
    return [(text, label) for text, label in out if text]


class LearnedModel:
    """A fitted TF-IDF + calibrated linear SVM pipeline; :meth:`rank` gives labels with probabilities."""

    def __init__(self, pipeline, digest: str):
        self.pipeline = pipeline
        self.digest = digest
        self.labels: list[str] = [str(c) for c in pipeline.classes_]
        self._vectorizer = pipeline[0]
        # Each TF-IDF part as (analyzer, vocabulary, idf, first column): one utterance is vectorised in plain
        # Python (scikit-learn's transform costs ~0.6 ms per call and part in overhead for a single text).
        parts, column = [], 0
        for _, vectorizer in self._vectorizer.transformer_list:
            parts.append((vectorizer.build_analyzer(), vectorizer.vocabulary_, vectorizer.idf_, column))
            column += len(vectorizer.vocabulary_)
        self._parts = parts
        # The calibrated ensemble as three arrays, so one prediction is one sparse product plus a sigmoid
        # (scikit-learn's predict_proba loops over folds and classes in Python: ~10x slower).
        folds = pipeline[-1].calibrated_classifiers_
        self._weights = np.vstack([f.estimator.coef_ for f in folds]).T.copy()
        self._bias = np.concatenate([f.estimator.intercept_ for f in folds])
        self._a = np.concatenate([[c.a_ for c in f.calibrators] for f in folds])
        self._b = np.concatenate([[c.b_ for c in f.calibrators] for f in folds])
        self._folds = len(folds)

    def probabilities(self, text: str | Utterance, language: str) -> np.ndarray:
        """Probability of every label (:attr:`labels` order): the mean of the folds' calibrated, normalised scores."""
        scores = self._scores(features_text(text, language))
        probs = (1.0 / (1.0 + np.exp(self._a * scores + self._b))).reshape(self._folds, -1)
        sums = probs.sum(axis=1, keepdims=True)
        probs = np.where(sums > 0, probs / np.where(sums > 0, sums, 1.0), 1.0 / probs.shape[1])
        return probs.mean(axis=0)

    def _scores(self, text: str) -> np.ndarray:
        """The linear scores of every fold and label: the union's TF-IDF (sublinear tf, l2 per part) times the weights."""
        columns: list[int] = []
        values: list[float] = []
        for analyze, vocabulary, idf, first in self._parts:
            counts = Counter(vocabulary[gram] for gram in analyze(text) if gram in vocabulary)
            weights = [(1.0 + math.log(n)) * idf[j] for j, n in counts.items()]
            norm = math.sqrt(sum(w * w for w in weights)) or 1.0
            columns += [first + j for j in counts]
            values += [w / norm for w in weights]
        if not columns:
            return self._bias.copy()
        return np.asarray(values) @ self._weights[columns] + self._bias

    def rank(self, text: str | Utterance, language: str, top: int = 3) -> list[tuple[str, float]]:
        """The ``top`` labels, most probable first."""
        probs = self.probabilities(text, language)
        order = probs.argsort()[::-1][:top]
        return [(self.labels[i], float(probs[i])) for i in order]


def _pipeline():
    # A linear SVM on TF-IDF character n-grams and words, its scores calibrated to probabilities (Platt scaling
    # on 3 unshuffled folds: deterministic). Calibration matters: the understanding compares these numbers
    # with the rules' confidence and with a threshold.
    # Word uni- and bigrams beside the character n-grams: "zur Welt gekommen", "ran out" carry meaning that
    # their letters share with unrelated words (model alone, trained without the former held-out v6 / v7 lines
    # of the dev set, right on them: 0.90 / 0.91 with characters only, 0.92 / 0.92 with words too).
    from sklearn.calibration import CalibratedClassifierCV
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline, make_union
    from sklearn.svm import LinearSVC
    return make_pipeline(
        make_union(TfidfVectorizer(analyzer='char_wb', ngram_range=(2, 5), sublinear_tf=True, min_df=1),
                   TfidfVectorizer(analyzer='word', ngram_range=(1, 2), sublinear_tf=True,
                                   token_pattern=r'(?u)\b\w+\b')),
        CalibratedClassifierCV(LinearSVC(C=1.0, random_state=0), method='sigmoid', cv=3))


def digest_of(examples: list[tuple[str, str]]) -> str:
    import sklearn
    h = hashlib.sha256(f'{MODEL_VERSION} {sklearn.__version__}'.encode())
    for text, label in examples:
        h.update(f'{label}\t{text}\n'.encode())
    return h.hexdigest()[:16]


def train(examples: list[tuple[str, str]]) -> LearnedModel:
    """Fit the model (deterministic: same examples, same model)."""
    pipeline = _pipeline()
    pipeline.fit([t for t, _ in examples], [lab for _, lab in examples])
    return LearnedModel(pipeline, digest_of(examples))


def cache_dir() -> Path:
    base = os.environ.get('XDG_CACHE_HOME') or str(Path.home() / '.cache')
    return Path(base) / 'l2b2'


def load_or_train(catalog: Catalog, lexicon: Lexicon, dev_file: str | Path = DEV_FILE,
                  directory: str | Path | None = None, *, train_if_missing: bool = True) -> LearnedModel | None:
    """The model for this catalog, lexicon and dev set: from the cache, or trained (and cached) now.

    With ``train_if_missing=False``: None when it is not cached (the caller trains it later, e.g. in the
    background, so that a node starts at once).
    """
    examples = training_examples(catalog, lexicon, dev_file)
    digest = digest_of(examples)
    folder = Path(directory) if directory else cache_dir()
    path = folder / f'dialogue_model_{digest}.pickle'
    try:
        with path.open('rb') as f:
            saved = pickle.load(f)  # our own cache file, named by the hash of what it was trained on
        if isinstance(saved, dict) and saved.get('digest') == digest:
            return LearnedModel(saved['pipeline'], digest)
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError, KeyError):
        pass
    if not train_if_missing:
        return None
    model = train(examples)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, delete=False, suffix='.tmp') as f:
            pickle.dump({'digest': digest, 'pipeline': model.pipeline}, f)
        os.replace(f.name, path)
    except OSError:
        pass  # a read-only home still works, it only trains again next time
    return model
