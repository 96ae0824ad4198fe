"""Restricted-vocabulary Vosk grammar: the phrases visitors use here, from the department catalog
plus the dialogue's intent words (yes/no, greetings, appointment, waiting number, digits).

A grammar makes a small model far more robust in a noisy hall; anything else becomes ``[unk]``.
"""
from __future__ import annotations

import re

from l2b2_common.catalog import Catalog, load_catalog

#: Words for the intents the dialogue understands, besides department names and keywords.
INTENT_WORDS: dict[str, tuple[str, ...]] = {
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


def grammar_phrases(language: str, catalog: Catalog | None = None,
                    extra: tuple[str, ...] = ()) -> list[str]:
    """All phrases for ``language``: target and service names and keywords, intent words, ``extra``."""
    catalog = catalog or load_catalog()
    raw: list[str] = list(INTENT_WORDS.get(language, ())) + list(extra)
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
