"""Restricted-vocabulary Vosk grammar: the phrases visitors use here, from the department catalog
plus the dialogue's intent phrases (``l2b2_dialogue/lexicon.yaml``: every intent, at most
:data:`MAX_PHRASES_PER_INTENT` phrases each), its where-words and ordinals, and frame phrases and digits.

A grammar makes a small model far more robust in a noisy hall; anything else becomes ``[unk]``.
"""
from __future__ import annotations

from pathlib import Path
import re
from typing import Any

from l2b2_common.catalog import Catalog, load_catalog
from l2b2_common.config import load_yaml
from l2b2_dialogue import LEXICON_FILE

#: The lexicon lists the most common phrases of an intent first; more would only bloat the grammar.
MAX_PHRASES_PER_INTENT = 12

#: Phrases around the intents and targets (where-questions, appointment and ticket sentences, digits of
#: booking and waiting numbers); the intent phrases themselves come from the lexicon.
FRAME_PHRASES: dict[str, tuple[str, ...]] = {
    'de': (
        'ja', 'nein', 'genau', 'richtig', 'falsch', 'bitte', 'danke', 'danke schön', 'hallo', 'guten tag',
        'guten morgen', 'tschüss', 'auf wiedersehen', 'hilfe', 'ich habe einen termin', 'termin',
        'ich habe keinen termin', 'wartenummer', 'nummer ziehen', 'eine nummer', 'wo ist', 'wo finde ich',
        'ich möchte', 'ich suche', 'bringen sie mich', 'zeigen sie mir', 'abbrechen', 'zurück', 'stopp',
        'noch einmal', 'wiederholen', 'deutsch', 'türkisch', 'toilette', 'ausgang',
        'null', 'eins', 'zwei', 'drei', 'vier', 'fünf', 'sechs', 'sieben', 'acht', 'neun', 'zehn',
    ),
    'tr': (
        'evet', 'hayır', 'tamam', 'doğru', 'yanlış', 'lütfen', 'teşekkürler', 'teşekkür ederim', 'merhaba',
        'günaydın', 'iyi günler', 'hoşça kalın', 'yardım', 'randevum var', 'randevu', 'randevum yok',
        'sıra numarası', 'numara almak', 'bir numara', 'nerede', 'nereye', 'istiyorum', 'arıyorum',
        'beni götürün', 'gösterin', 'iptal', 'geri', 'dur', 'tekrar', 'tekrarlayın', 'almanca', 'türkçe',
        'tuvalet', 'çıkış',
        'sıfır', 'bir', 'iki', 'üç', 'dört', 'beş', 'altı', 'yedi', 'sekiz', 'dokuz', 'on',
    ),
}

_PUNCT = re.compile(r"[^\w\s'-]+", re.UNICODE)


def normalize_phrase(text: str, language: str) -> str:
    """Lower-case the way the language does (Turkish dotted/dotless i) and drop punctuation."""
    if language == 'tr':
        text = text.replace('I', 'ı').replace('İ', 'i')
    text = _PUNCT.sub(' ', text.lower()).replace('-', ' ')
    return ' '.join(text.split())


def load_lexicon(path: str | Path | None = None) -> dict[str, Any]:
    """The dialogue's lexicon as parsed YAML (ConfigError names the file on problems); the grammar follows
    it so that every intent the dialogue understands can be said in grammar mode."""
    return load_yaml(path or LEXICON_FILE) or {}


def intent_phrases(language: str, lexicon: dict[str, Any] | None = None,
                   per_intent: int = MAX_PHRASES_PER_INTENT) -> dict[str, list[str]]:
    """intent -> its first ``per_intent`` lexicon phrases in ``language``, normalized like the grammar."""
    lexicon = load_lexicon() if lexicon is None else lexicon
    out: dict[str, list[str]] = {}
    for intent, by_lang in (lexicon.get('intents') or {}).items():
        texts = (by_lang or {}).get(language) or []
        phrases = dict.fromkeys(p for p in (normalize_phrase(t, language) for t in texts if isinstance(t, str)) if p)
        out[str(intent)] = list(phrases)[:per_intent]
    return out


def grammar_phrases(language: str, catalog: Catalog | None = None, extra: tuple[str, ...] = (),
                    lexicon: dict[str, Any] | None = None) -> list[str]:
    """All phrases for ``language``: the lexicon's intent phrases, where-words and ordinals, frame phrases,
    ``extra``, target and service names and keywords."""
    catalog = catalog or load_catalog()
    lexicon = load_lexicon() if lexicon is None else lexicon
    raw: list[str] = [p for phrases in intent_phrases(language, lexicon).values() for p in phrases]
    for section in ('where', 'ordinals'):
        raw.extend(w for w in ((lexicon.get(section) or {}).get(language) or []) if isinstance(w, str))
    raw += list(FRAME_PHRASES.get(language, ())) + list(extra)
    for target in catalog.targets.values():
        if language in target.name:
            raw.append(target.name[language])
        raw.extend(target.keywords.get(language, ()))
        for service in target.services:
            if language in service.name:
                raw.append(service.name[language])
            raw.extend(service.keywords.get(language, ()))
    phrases = dict.fromkeys(p for p in (normalize_phrase(r, language) for r in raw) if p)
    return list(phrases)


#: How a prompt opens and closes per language: the place, then the answers visitors give most.
PROMPT_FRAME: dict[str, tuple[str, str]] = {
    'de': ('Im Bürgerbüro', 'Ja bitte. Nein danke.'),
    'tr': ('Belediyede', 'Evet lütfen. Hayır teşekkürler.'),
}


def whisper_prompt(language: str, catalog: Catalog | None = None, max_items: int = 16) -> str:
    """A short text in ``language`` with this office's words and the answers visitors give.

    Whisper continues the style and vocabulary of its initial prompt, so this biases it towards the
    words of this Bürgerbüro the way a grammar restricts Vosk. Kept short and natural: a long list
    makes Whisper repeat the list instead of transcribing (measured on espeak-ng speech).
    """
    catalog = catalog or load_catalog()
    opening, answers = PROMPT_FRAME.get(language, ('', ''))
    words = [t.keywords[language][0] for t in catalog.targets.values() if t.keywords.get(language)][:max_items]
    return f'{opening}: {", ".join(words)}. {answers}'.strip(': ')
