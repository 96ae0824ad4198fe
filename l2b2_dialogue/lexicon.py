"""The lexicon (``lexicon.yaml``) as a validated model: every word the understanding reacts to, per language.

Intent phrases, question words, ordinals, function words, and the small word lists that steer single
decisions (thanks, fillers around a name, names of languages, "no appointment" phrases, stopwords).
A misspelt key or a non-word fails on start-up with file, key and reason
(:func:`l2b2_common.config.load_model`). Comparison sets are folded here once (:func:`fold`).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator

from l2b2_common.catalog import LANGUAGES
from l2b2_common.config import StrictModel, load_model
from l2b2_dialogue import LEXICON_FILE
from l2b2_dialogue.normalize import fold, tokens


def _word(value: str) -> str:
    if not value.strip():
        raise ValueError('must be a list of non-empty words or phrases')
    return value


Word = Annotated[str, AfterValidator(_word)]


class PerLanguage(StrictModel):
    """Words or phrases per language (a language may be left out)."""

    de: list[Word] = []
    tr: list[Word] = []
    en: list[Word] = []

    def of(self, language: str) -> list[str]:
        return list(getattr(self, language, []))

    def folded(self, language: str | None = None) -> frozenset[str]:
        """Folded words of one language, or of all languages."""
        langs = LANGUAGES if language is None else (language,)
        return frozenset(fold(w) for lang in langs for w in self.of(lang))


class Intents(StrictModel):
    greeting: PerLanguage
    goodbye: PerLanguage
    affirm: PerLanguage
    deny: PerLanguage
    language_switch: PerLanguage
    staff_help: PerLanguage
    smalltalk: PerLanguage
    appointment_checkin: PerLanguage
    ticket: PerLanguage
    opening_hours: PerLanguage
    out_of_scope: PerLanguage


class LexiconFile(StrictModel):
    intents: Intents
    where: PerLanguage
    ordinals: PerLanguage
    function_words: PerLanguage
    blocked_tokens: list[Word] = []
    thanks: PerLanguage = PerLanguage()
    name_fillers: PerLanguage = PerLanguage()
    language_names: PerLanguage = PerLanguage()
    language_request_words: PerLanguage = PerLanguage()
    no_appointment: PerLanguage = PerLanguage()
    stopwords: PerLanguage = PerLanguage()
    other_language_names: PerLanguage = PerLanguage()
    language_verbs: PerLanguage = PerLanguage()
    days: PerLanguage = PerLanguage()
    visit_words: PerLanguage = PerLanguage()
    open_words: PerLanguage = PerLanguage()
    person_titles: PerLanguage = PerLanguage()
    not_opening_hours: PerLanguage = PerLanguage()
    booking_wish: PerLanguage = PerLanguage()
    where_questions: PerLanguage = PerLanguage()
    when_questions: PerLanguage = PerLanguage()
    separable_prefixes: PerLanguage = PerLanguage()
    person_lead_words: PerLanguage = PerLanguage()
    problem_words: PerLanguage = PerLanguage()
    problem_suffixes: PerLanguage = PerLanguage()
    staffed_alternative: dict[str, str] = {}
    year_words: PerLanguage = PerLanguage()
    weak_language_request_words: PerLanguage = PerLanguage()
    foreign_nationalities: PerLanguage = PerLanguage()
    inflection_endings: PerLanguage = PerLanguage()


#: The intents the lexicon lists (escort has no words of its own: any target means it).
LEXICON_INTENTS = tuple(Intents.model_fields)


@dataclass(frozen=True)
class Lexicon:
    """The lexicon file plus the folded sets the understanding compares with."""

    file: LexiconFile
    path: Path
    blocked: frozenset[str]
    #: "danke", "teşekkürler": a "no" with thanks declines politely (any language).
    thanks: frozenset[str]
    #: Words around a name ("mein Name ist ...", "soyadım ..."), compared unfolded (lower case).
    name_fillers: frozenset[str]
    #: Words that ask for a language ("sprechen", "konuşabilir misiniz") (any language).
    language_request_words: frozenset[str]
    #: Phrases meaning "I have no appointment" (folded, matched inside the folded utterance).
    no_appointment: tuple[str, ...]
    stopwords: dict[str, frozenset[str]]

    def intent_phrases(self, intent: str, language: str) -> list[str]:
        return getattr(self.file.intents, intent).of(language)

    def language_named(self, folded_words: set[str] | frozenset[str]) -> str | None:
        """The language the words name ("türkisch", "almanca"), else None; Turkish wins a tie."""
        for lang in ('tr', *(lang for lang in LANGUAGES if lang != 'tr')):
            if folded_words & self.file.language_names.folded(lang):
                return lang
        return None


def load_lexicon(path: str | Path | None = None) -> Lexicon:
    """Read and check ``lexicon.yaml`` (or ``path``); ConfigError names file, key and reason."""
    path = Path(path) if path else LEXICON_FILE
    f = load_model(path, LexiconFile)
    return Lexicon(
        file=f, path=path, blocked=frozenset(fold(w) for w in f.blocked_tokens), thanks=f.thanks.folded(),
        name_fillers=frozenset(w for lang in LANGUAGES for w in f.name_fillers.of(lang)),
        language_request_words=f.language_request_words.folded(),
        no_appointment=tuple(dict.fromkeys(' '.join(fold(w) for w in tokens(p)) for lang in LANGUAGES
                                          for p in f.no_appointment.of(lang))),
        stopwords={lang: f.stopwords.folded(lang) for lang in LANGUAGES})
