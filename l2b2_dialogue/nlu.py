"""Natural-language understanding: an utterance in German or Turkish → intent, target, slots, confidence.

Rules over a weighted keyword index, not a trained model: every word the robot reacts to is in
``config/departments.yaml`` (targets and their services) or ``lexicon.yaml`` (intents and the small
word lists of single decisions), so a city fixes a misunderstanding by editing a list. Matching
tolerates ASR text: words are Snowball-stemmed and folded (:mod:`l2b2_dialogue.normalize`), German
compounds and Turkish suffixes match by prefix/suffix/infix of the keyword, and misspellings by a
rapidfuzz ratio (:mod:`l2b2_dialogue.phrases`). The utterance is normalised once
(:class:`~l2b2_dialogue.normalize.Utterance`) and shared with language detection, times and numbers.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
import threading
from typing import Any

from l2b2_common.catalog import LANGUAGES, Catalog, load_catalog, other_language
from l2b2_dialogue import LEXICON_FILE  # noqa: F401 - re-exported: tests and tools find the lexicon here
from l2b2_dialogue.combine import Policy, combine
from l2b2_dialogue.langdet import LanguageDetector
from l2b2_dialogue.learned import LearnedModel, load_or_train
from l2b2_dialogue.lexicon import Lexicon, load_lexicon
from l2b2_dialogue.normalize import Utterance, as_utterance, fold, stem_key, tokens, word_keys
from l2b2_dialogue.numbers import booking_number, word_value
from l2b2_dialogue.phrases import Phrase, PhraseBuilder, PhraseIndex
from l2b2_dialogue.times import find_time

INTENTS = ('escort', 'appointment_checkin', 'ticket', 'opening_hours', 'greeting', 'goodbye', 'affirm', 'deny',
           'language_switch', 'staff_help', 'smalltalk', 'out_of_scope')
_LEXICON_INTENTS = tuple(i for i in INTENTS if i != 'escort')


@dataclass
class Understanding:
    """What the visitor wants, as far as the robot understood it."""

    intent: str
    target: str | None
    confidence: float
    language: str
    slots: dict[str, Any] = field(default_factory=dict)
    #: The best targets with their confidence, best first (for a clarifying question).
    candidates: list[tuple[str, float]] = field(default_factory=list)
    #: Two target ids to ask about ("zur Pass- und Ausweisstelle oder zum Abholterminal?"), or empty.
    clarify: list[str] = field(default_factory=list)
    #: Who decided: 'rules', 'learned' or 'both' (agreeing, or a two-choice question from both).
    source: str = 'rules'

    def as_dict(self) -> dict[str, Any]:
        out = {'intent': self.intent, 'target': self.target, 'confidence': round(self.confidence, 3),
               'language': self.language, 'slots': self.slots,
               'candidates': [[t, round(c, 3)] for t, c in self.candidates], 'source': self.source}
        if self.clarify:
            out['clarify'] = list(self.clarify)
        return out


class Understander:
    """Loads the catalog and the lexicon once; :meth:`understand` is then pure and fast."""

    def __init__(self, catalog: Catalog | None = None, lexicon_path: str | Path | None = None,
                 threshold: float = 0.6, default_language: str = 'de', learned: bool | str | LearnedModel = True):
        self.catalog = catalog or load_catalog()
        self.threshold = threshold
        self.policy = Policy(threshold=threshold)
        self.default_language = default_language
        self.lexicon: Lexicon = load_lexicon(lexicon_path)
        lex = self.lexicon.file
        self.blocked = self.lexicon.blocked
        self.target_index: dict[str, PhraseIndex] = {}
        self.intent_index: dict[str, PhraseIndex] = {}
        self.where: dict[str, set[str]] = {}
        self.ordinals: dict[str, list[str]] = {}
        self.function_words: dict[str, set[str]] = {}
        for lang in LANGUAGES:
            self.target_index[lang] = self._target_phrases(lang)
            builder = PhraseBuilder()
            for intent in _LEXICON_INTENTS:
                for text in self.lexicon.intent_phrases(intent, lang):
                    # Intent words are not stemmed (a suffix may follow them): "nasılsın" (how are you) is not
                    # "nasıl" (how), "das wäre" is not "das war's".
                    builder.add(intent, text, lang, stem=False)
            self.intent_index[lang] = PhraseIndex(builder.phrases, builder.aliases, partial=False, prefix=True)
            self.where[lang] = {k for text in lex.where.of(lang) for w in tokens(text, lang) for k in word_keys(w, lang)}
            self.ordinals[lang] = [fold(w) for w in lex.ordinals.of(lang)]
            self.function_words[lang] = set(lex.function_words.folded(lang))
        self.language_detector = LanguageDetector(self._language_words())
        self.office_names = _office_names(self.catalog)
        #: The learned layer (None: rules only); trained once per machine and cached (:mod:`l2b2_dialogue.learned`).
        #: ``learned='background'``: a cached model at once, else the rules alone until a background thread has
        #: trained it (a node starts at once even on a machine that has never trained it).
        self.model: LearnedModel | None = None
        if isinstance(learned, LearnedModel):
            self.model = learned
        elif learned == 'background':
            self.model = load_or_train(self.catalog, self.lexicon, train_if_missing=False)
            if self.model is None:
                threading.Thread(target=self._train_in_background, name='nlu-training', daemon=True).start()
        elif learned:
            self.model = load_or_train(self.catalog, self.lexicon)

    def _train_in_background(self) -> None:
        self.model = load_or_train(self.catalog, self.lexicon)  # one attribute assignment: atomic

    # -- building the index ---------------------------------------------------------------------------
    def _target_phrases(self, lang: str) -> PhraseIndex:
        raw: list[tuple[str, str, str]] = []  # (target, phrase, phrase language)
        for target in self.catalog.targets.values():
            texts = [(name, name_lang) for name_lang, name in target.name.items()]
            texts += [(w, src_lang) for src_lang, words in target.keywords.items() for w in words]
            for service in target.services:
                texts += [(name, name_lang) for name_lang, name in service.name.items()]
                texts += [(w, src_lang) for src_lang, words in service.keywords.items() for w in words]
            raw += [(target.id, text, text_lang) for text, text_lang in texts if text_lang in LANGUAGES]
        builder = PhraseBuilder(self.lexicon.stopwords)
        lex = self.lexicon.file
        # A word of another language that is a small word of this one ("died" stems to German "die") is left out.
        small = set(lex.function_words.folded(lang)) | set(self.lexicon.stopwords.get(lang, ()))
        for target_id, text, src_lang in raw:
            # Words of the other language still count (code-switching: "Ausländerbehörde nerede"),
            # but a little less than the visitor's own language.
            if src_lang != lang:
                text = ' '.join(w for w in tokens(text, src_lang)
                                if fold(w) not in small and stem_key(w, src_lang) not in small)
                if not text:
                    continue
            builder.add(target_id, text, src_lang, 1.0 if src_lang == lang else 0.9, drop_stopwords=True)
        # Specific words beat generic ones: a single word that is a keyword of several targets weighs less.
        owners: dict[str, set[str]] = defaultdict(set)
        for p in builder.phrases:
            if len(p.words) == 1:
                owners[p.words[0]].add(p.label)
        phrases = [Phrase(p.label, p.words, p.weight / len(owners[p.words[0]]) ** 0.5) if len(p.words) == 1 else p
                   for p in builder.phrases]
        return PhraseIndex(phrases, builder.aliases, partial=True, suffixing=lang == 'tr')

    def _language_words(self) -> dict[str, list[str]]:
        """Words that show a language: function and intent words, and the catalog's names and keywords."""
        words: dict[str, list[str]] = {lang: sorted(self.function_words[lang]) for lang in LANGUAGES}
        for lang in LANGUAGES:
            for intent in _LEXICON_INTENTS:
                words[lang] += self.lexicon.intent_phrases(intent, lang)
            words[lang] += catalog_texts(self.catalog, lang)
        return words

    def clear_caches(self) -> None:
        """Forget cached word matches (the benchmark measures the cold path with it)."""
        for index in (*self.target_index.values(), *self.intent_index.values()):
            index._cache.clear()
        for cached in (fold, word_keys, stem_key):
            cached.cache_clear()
        self.language_detector.clear_cache()

    # -- understanding ------------------------------------------------------------------------------------
    def detect_language(self, text: str | Utterance, default: str = '') -> str:
        """de or tr (:mod:`l2b2_dialogue.langdet`); ``default`` (the conversation's language) on a tie."""
        default = default if default in LANGUAGES else self.default_language
        return self.language_detector.detect(as_utterance(text), default)

    def understand(self, text: str | Utterance, language: str = '') -> Understanding:
        """Intent, target, slots and confidence of one utterance; never raises on any input."""
        utterance = as_utterance(text)
        lang = language if language in LANGUAGES else self.detect_language(utterance)
        words = utterance.tokens(lang)
        folded = utterance.folded(lang)
        # Number words ("dokuz": nine) name no place, whatever their stem looks like ("dok" ~ "doğum").
        keys = [() if k[0] in self.blocked or _number_word(f) else k
                for k, f in zip((word_keys(w, lang) for w in words), folded, strict=False)]
        # Compounds split by the ASR ("personal ausweis") also match their joined form: keys[n + i] joins
        # words i and i+1.
        keys += [word_keys(a + b, lang) if len(a) > 2 and len(b) > 2 else ()
                 for a, b in zip(words, words[1:], strict=False)]
        slots: dict[str, Any] = {}
        when = find_time(utterance)
        if when:
            slots['time'] = when.text
        # The digits of a time are no booking number: "Termin um 10:30" is not booking 1030.
        number = booking_number(Utterance.from_cleaned(when.rest) if when else utterance)
        if number:
            slots['booking_number'] = number

        intent_cover = self.intent_index[lang].score_with_coverage(keys)
        intent_scores = {label: value for label, (value, _) in intent_cover.items()}
        target_scores = self.target_index[lang].score(keys)
        queue_intents = sorted((i for i in ('ticket', 'appointment_checkin') if i in intent_cover),
                               key=lambda i: -intent_cover[i][0])
        for intent in queue_intents:
            if target_scores:
                # "für meinen Termin anmelden": the words that made it a check-in do not also name a target.
                used = intent_cover[intent][1]
                used |= {len(words) + i for i in range(len(words) - 1) if {i, i + 1} & used}
                target_scores = self.target_index[lang].score(keys, frozenset(used))
                break
        candidates = _candidates(target_scores)
        where = any(k in self.where[lang] for wkeys in keys for k in wkeys)
        queue_candidates = _candidates({t: v for t, v in target_scores.items()
                                        if self.catalog[t].scope_id is not None})
        intent, target, confidence = self._decide(keys, folded, intent_scores, candidates, queue_candidates, where,
                                                  slots)
        if intent == 'language_switch':
            slots['language'] = self.lexicon.language_named(set(folded)) or other_language(lang)
        if intent == 'deny' and set(folded) & self.lexicon.thanks:
            slots['thanks'] = True
        ordinal = self._ordinal(lang, folded)
        if ordinal is not None:
            slots['ordinal'] = ordinal
        rules = Understanding(intent, target, round(confidence, 3), lang, slots, candidates[:3])
        model = self.model
        if model is None or not folded:
            return rules
        probs = dict(zip(model.labels, model.probabilities(utterance, lang).tolist(), strict=True))
        u = combine(rules, probs, self._named(folded, rules.target), self.policy)
        if u.intent == 'language_switch' and 'language' not in u.slots:
            u.slots['language'] = self.lexicon.language_named(set(folded)) or other_language(lang)
        return replace(u, confidence=round(u.confidence, 3))

    def _named(self, folded: list[str], target: str | None) -> bool:
        """The visitor named the rules' target as an office ("Standesamt", "Pass- und Ausweisstelle")."""
        if target is None:
            return False
        words = set(folded)
        return any(set(name) <= words for name in self.office_names.get(target, ()))

    def _decide(self, keys, folded, intents, candidates, queue_candidates, where, slots):
        """The intent by fixed precedence; see docs/dialogue.md. ``folded``: the utterance's folded words."""
        top_target, target_conf = candidates[0] if candidates else (None, 0.0)
        n = max(1, len(folded))
        # The strongest intent; near-ties go by _FALLBACK_ORDER ("danke tschüss" is a goodbye).
        best_intent = None
        if intents:
            top = max(intents.values())
            best_intent = min((i for i, v in intents.items() if v >= top - 0.1), key=_FALLBACK_ORDER.index)

        def has(intent: str, minimum: float = 0.5) -> bool:
            return intents.get(intent, 0.0) >= minimum

        asks_language = bool(set(folded) & self.lexicon.language_request_words)
        if has('language_switch') and (asks_language or (n <= 3 and top_target is None)):
            return 'language_switch', None, 0.95
        if has('out_of_scope') and intents['out_of_scope'] >= 0.9 * (candidates[0][1] if candidates else 0) * 1.5:
            return 'out_of_scope', None, 0.8
        joined = ' '.join(folded)
        no_appointment = any(p in joined for p in self.lexicon.no_appointment)
        if no_appointment or (has('ticket') and 'booking_number' not in slots and 'time' not in slots
                              and intents['ticket'] >= intents.get('appointment_checkin', 0.0)):
            return 'ticket', self._queue_target(queue_candidates), 0.85
        # A time said with a queue word or alone ("ich bin um zehn Uhr dran", "half past two"): an appointment.
        timed = 'time' in slots and (has('ticket') or (top_target is None and not has('opening_hours')))
        if 'booking_number' in slots or has('appointment_checkin') or timed:
            return 'appointment_checkin', self._queue_target(queue_candidates), 0.9
        if has('opening_hours') and (top_target is None or intents['opening_hours'] >= 0.9):
            return 'opening_hours', top_target if target_conf >= self.threshold else None, 0.85
        if has('staff_help') and (top_target is None or top_target == 'info' or intents['staff_help'] >= 1.5):
            return 'staff_help', None, 0.85
        if top_target is not None:
            conf = target_conf * (1.0 if where or n <= 6 else 0.95)
            return 'escort', top_target, conf
        if best_intent in ('goodbye', 'greeting', 'smalltalk', 'affirm', 'deny', 'out_of_scope', 'staff_help',
                           'opening_hours'):
            # Affirm/deny words inside a longer sentence ("nein, ich suche ...") only count in short answers.
            if best_intent in ('affirm', 'deny') and n > 5:
                return 'out_of_scope', None, 0.4
            return best_intent, None, min(1.0, 0.7 + 0.3 * intents[best_intent])
        # Words the lexicon does not know at all: confidently out of scope; nothing at all: no confidence.
        return 'out_of_scope', None, 0.5 if keys else (0.9 if folded else 0.0)

    def _queue_target(self, candidates: list[tuple[str, float]]) -> str | None:
        """The department a ticket or appointment is for (only targets with a queue compete); None if unsure."""
        if candidates and candidates[0][1] >= max(self.threshold, 0.8):
            return candidates[0][0]
        return None

    def _ordinal(self, lang: str, folded: list[str]) -> int | None:
        """"die zweite", "ikincisi": which of the offered candidates (0-based); inflections match by prefix."""
        for i, ordinal in enumerate(self.ordinals[lang]):
            if any(w.startswith(ordinal) and len(w) <= len(ordinal) + 4 for w in folded):
                return i
        return None

    def name_from_text(self, text: str | Utterance, max_words: int = 4) -> str:
        """The (sur)name a visitor says or types: "mein Name ist Erika Mustermann" → "Erika Mustermann"."""
        return _name(as_utterance(text), self.lexicon.name_fillers, max_words)


def _number_word(folded_word: str) -> bool:
    return not folded_word.isdigit() and folded_word not in _WEAK_NUMBERS and word_value(folded_word) is not None


#: Number words that are also ordinary words ("ein Pass", "bir kimlik", "on" = ten / English "on").
_WEAK_NUMBERS = frozenset({'ein', 'eine', 'einen', 'bir', 'on'})

_FALLBACK_ORDER = ('language_switch', 'appointment_checkin', 'ticket', 'goodbye', 'staff_help', 'opening_hours',
                   'greeting', 'deny', 'affirm', 'out_of_scope', 'smalltalk')


def _name(utterance: Utterance, fillers: frozenset[str], max_words: int) -> str:
    words = [w for w in utterance.tokens() if w not in fillers and not w.isdigit() and len(w) > 1]
    return ' '.join(w.capitalize() for w in words[:max_words])


@lru_cache(maxsize=1)
def _default_name_fillers() -> frozenset[str]:
    return load_lexicon().name_fillers


def name_from_text(text: str | Utterance, max_words: int = 4) -> str:
    """The (sur)name in ``text``, with the default lexicon's fillers (see :meth:`Understander.name_from_text`)."""
    return _name(as_utterance(text), _default_name_fillers(), max_words)


def _candidates(scores: dict[str, float]) -> list[tuple[str, float]]:
    """Targets with a confidence: strength of the best match, discounted by close rivals."""
    if not scores:
        return []
    ordered = sorted(scores.items(), key=lambda kv: -kv[1])
    total = sum(v for _, v in ordered[:3])
    out = []
    for target, value in ordered[:3]:
        strength = min(1.0, value)
        share = value / total if total else 0.0
        out.append((target, strength * (0.35 + 0.65 * share)))
    return out


#: A keyword that is the name of an office: it ends like one (German compounds, Turkish and English names).
_OFFICE_ENDINGS = ('amt', 'stelle', 'behorde', 'buro', 'burosu', 'dairesi', 'terminal', 'theke', 'kasse', 'office',
                   'desk', 'veznesi', 'danisma', 'subesi')


def _office_names(catalog: Catalog) -> dict[str, list[tuple[str, ...]]]:
    """Per target: its names (every language) and the keywords that name it as an office, as folded words."""
    out: dict[str, list[tuple[str, ...]]] = {}
    for target in catalog.targets.values():
        texts = list(target.name.values())
        texts += [k for words in target.keywords.values() for k in words if fold(k.lower()).endswith(_OFFICE_ENDINGS)]
        names = {tuple(fold(w) for w in tokens(t)) for t in texts}
        out[target.id] = sorted(n for n in names if n)
    return out


def catalog_texts(catalog: Catalog, lang: str) -> list[str]:
    """Every name and keyword of the catalog's targets and services in one language."""
    out: list[str] = []
    for target in catalog.targets.values():
        out += [target.name.get(lang, ''), *target.keywords.get(lang, ())]
        for service in target.services:
            out += [service.name.get(lang, ''), *service.keywords.get(lang, ())]
    return [t for t in out if t]


def load_understander(threshold: float = 0.6, catalog_path: str | None = None) -> Understander:
    """An Understander over the default (or given) catalog; ConfigError names file and key on problems."""
    return Understander(load_catalog(catalog_path), threshold=threshold)
