"""The robot's sentences, per language, from ``config/responses_<lang>.yaml`` — never from code.

Every language file must have every key of the German file with the same placeholders, so a
missing or mistyped translation fails on start-up (naming file and key), not in front of a visitor.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import string
from typing import Annotated

from pydantic import AfterValidator

from l2b2_common.catalog import LANGUAGES
from l2b2_common.config import ConfigError, StrictModel, config_path, load_model

__all__ = ['LANGUAGES', 'Responses', 'load_responses']
REFERENCE = 'de'


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ''


@dataclass(frozen=True)
class LanguageTexts:
    language: str
    texts: dict[str, str]
    to_target: dict[str, str]
    to_target_default: str
    path: Path
    subject: dict[str, str]
    subject_default: str


class Responses:
    """Sentences by key and language, filled with named values."""

    def __init__(self, by_language: dict[str, LanguageTexts]):
        self.by_language = by_language

    @property
    def languages(self) -> tuple[str, ...]:
        return tuple(self.by_language)

    def text(self, key: str, language: str, **values: object) -> str:
        lang = self.by_language.get(language) or self.by_language[REFERENCE]
        return lang.texts[key].format_map(_Blank({k: str(v) for k, v in values.items()})).strip()

    def to_target(self, target_id: str, target_name: str, language: str) -> str:
        """ "zur Meldestelle" / "Nüfus Kayıt Bürosu'na": the grammatical "to <target>"."""
        lang = self.by_language.get(language) or self.by_language[REFERENCE]
        return lang.to_target.get(target_id) or lang.to_target_default.format(target=target_name)

    def subject(self, target_id: str, target_name: str, language: str) -> str:
        """ "Die Meldestelle" / "The registry office": the target as the subject starting a sentence."""
        lang = self.by_language.get(language) or self.by_language[REFERENCE]
        return lang.subject.get(target_id) or lang.subject_default.format(target=target_name)

    def join(self, items: list[str], language: str, word: str = 'list_or') -> str:
        if len(items) <= 1:
            return ''.join(items)
        return f'{", ".join(items[:-1])} {self.text(word, language)} {items[-1]}'


def _text(value: str) -> str:
    if not value.strip():
        raise ValueError('must be a non-empty text')
    try:
        _placeholders(value)
    except ValueError as exc:
        raise ValueError(f'bad placeholder: {exc}') from None
    return value


class ResponsesFile(StrictModel):
    """``config/responses_<lang>.yaml``."""

    language: str
    texts: dict[str, Annotated[str, AfterValidator(_text)]]
    to_target: dict[str, str] = {}
    to_target_default: str = '{target}'
    subject: dict[str, str] = {}
    subject_default: str = '{target}'


def _load_language(path: Path, language: str) -> LanguageTexts:
    f = load_model(path, ResponsesFile)
    if f.language != language:
        raise ConfigError(path, 'language', f'expected "{language}" (file name), got "{f.language}"')
    return LanguageTexts(language, dict(f.texts), dict(f.to_target), f.to_target_default, path, dict(f.subject),
                         f.subject_default)


def load_responses(languages: tuple[str, ...] = LANGUAGES, directory: str | Path | None = None) -> Responses:
    """Load ``responses_<lang>.yaml`` for every language and check they agree with the German file."""
    def path_of(lang: str) -> Path:
        name = f'responses_{lang}.yaml'
        return Path(directory) / name if directory else config_path(name)

    by_language = {lang: _load_language(path_of(lang), lang) for lang in dict.fromkeys((REFERENCE, *languages))}
    reference = by_language[REFERENCE]
    for texts in by_language.values():
        for key, text in reference.texts.items():
            if key not in texts.texts:
                raise ConfigError(texts.path, f'texts.{key}', f'missing (the {REFERENCE} file has it)')
            if _placeholders(text) != _placeholders(texts.texts[key]):
                raise ConfigError(texts.path, f'texts.{key}',
                                  f'placeholders {sorted(_placeholders(texts.texts[key]))} differ from '
                                  f'{sorted(_placeholders(text))} in {reference.path.name}')
        for key in texts.texts:
            if key not in reference.texts:
                raise ConfigError(texts.path, f'texts.{key}', f'unknown key (not in {reference.path.name})')
    return Responses(by_language)
