"""Which recognizer decodes which language: one choice for the ASR node and ``l2b2-transcribe``.

Vosk wherever config/speech_models.yaml has a model for the language (and the engine setting allows
it), else faster-whisper (the only German/Turkish model that ships). A broken model loses only its
own language; every problem is returned as a sentence for the health line.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import re

from l2b2_common.config import ConfigError
from l2b2_common.tunables import tunable
from l2b2_speech.asr_engine import AsrEngine, ModelError, TextFixingEngine
from l2b2_speech.grammar import grammar_phrases, whisper_prompt
from l2b2_speech.models import SpeechModels

WHISPER_LANGUAGES = ('de', 'tr', 'en')


@dataclass(frozen=True)
class EngineChoice:
    """What the ASR is asked to use: the ASR node's engine parameters, and l2b2-transcribe's settings."""

    languages: list[str] = tunable(['de', 'tr'], 'Languages to recognize; unknown-language speech is decoded in '
                                   'all.', item_type=str)
    engine: str = tunable('auto', 'auto: Vosk where a model is configured, else Whisper; or force one engine.',
                          choices=('auto', 'vosk', 'whisper'))
    use_grammar: bool = tunable(True, 'Restrict Vosk to catalog and intent phrases (more robust in a noisy hall).')
    grammar_extra: str = tunable('', 'Extra phrases for the Vosk grammar (all languages), separated by "|".')
    whisper_prompt: bool = tunable(True, "Bias Whisper towards the office's words (department names, yes/no) with "
                                   'an initial prompt built from the department catalog.')
    whisper_beam_size: int = tunable(1, 'Whisper beam size (1 = greedy, fastest; more also gives alternatives).',
                                     min=1, max=5)
    whisper_cpu_threads: int = tunable(2, 'CPU threads for Whisper.', min=1, max=16)
    whisper_encoder_pad_s: float = tunable(
        30.0, "Silence after the segment that Whisper's encoder sees (the window is at most 30 s). 30: the full "
        'window, as the model was trained. 1-4: decoding 5-6 times cheaper, but lower language ID and understanding '
        '(docs/speech.md, measured 2026-12-06).', min=0.5, max=30.0)
    whisper_language_check: bool = tunable(
        True, "When Whisper is unsure between the languages, choose the reading by more than its log-probability: "
        'a reading far too short for the speech or copying the prompt loses, text that reads as its language '
        "(the dialogue's text language detector) wins (docs/speech.md).")
    near_miss_repair: bool = tunable(
        False, "Map near-miss words of a transcript back to the office's words (catalog and intent phrases) when "
        'they sound the same (Kölner Phonetik, a Turkish key) and are spelled alike, e.g. "Standes amt" -> '
        '"Standesamt", "nüfüs" -> "nüfus". Off: with whisper-base it changed no spoken answer (its errors are other '
        'words, not near misses; l2b2_speech/near_miss.py, docs/speech.md).')
    vosk_min_confidence: float = tunable(0.3, 'Vosk hypotheses with a lower mean word confidence are dropped.',
                                         min=0.0, max=1.0)


def build_engines(models: SpeechModels, choice: EngineChoice) -> tuple[dict[str, AsrEngine], list[str]]:
    """The engine per language and the problems met (empty when everything loaded)."""
    problems: list[str] = []
    chosen: dict[str, AsrEngine] = {}
    vosk_langs = {lang: models.vosk[lang] for lang in choice.languages
                  if models.vosk.get(lang) is not None and choice.engine in ('auto', 'vosk')}
    for lang, path in vosk_langs.items():  # one engine per language: a broken model only loses its language
        try:
            from l2b2_speech.vosk_engine import VoskEngine
            extra = tuple(p.strip() for p in choice.grammar_extra.split('|') if p.strip())
            grammars = {lang: grammar_phrases(lang, extra=extra)} if choice.use_grammar else None
            chosen[lang] = VoskEngine({lang: path}, grammars, min_confidence=choice.vosk_min_confidence)
        except (ModelError, ConfigError) as exc:
            problems.append(str(exc))
    need_whisper = [lang for lang in choice.languages if lang not in chosen and lang in WHISPER_LANGUAGES
                    and choice.engine in ('auto', 'whisper')]
    if need_whisper:
        try:
            from l2b2_speech.whisper_engine import WhisperEngine
            prompts = {lang: whisper_prompt(lang) for lang in need_whisper} if choice.whisper_prompt else None
            judge = text_language_judge(need_whisper) if choice.whisper_language_check else None
            whisper = WhisperEngine(models.whisper, need_whisper, beam_size=choice.whisper_beam_size,
                                    cpu_threads=choice.whisper_cpu_threads, prompts=prompts,
                                    encoder_pad_s=None if choice.whisper_encoder_pad_s >= 30.0
                                    else choice.whisper_encoder_pad_s,
                                    language_check=choice.whisper_language_check, language_judge=judge)
            chosen.update({lang: whisper for lang in need_whisper})
        except ModelError as exc:
            problems.append(str(exc))
    if choice.near_miss_repair and chosen:
        chosen = with_near_miss_repair(chosen, problems)
    missing = [lang for lang in choice.languages if lang not in chosen]
    if missing:
        problems.append(f'no speech recognition for {", ".join(missing)}')
    return chosen, problems


def with_near_miss_repair(chosen: dict[str, AsrEngine], problems: list[str]) -> dict[str, AsrEngine]:
    """The engines with their transcripts near-miss repaired (one wrapper per engine, so an engine serving
    several languages still decodes them together); unchanged, with a problem, when the vocabulary cannot be
    built."""
    try:
        from l2b2_speech.near_miss import office_repairer
        repairer = office_repairer(list(chosen))  # its languages
    except (ConfigError, OSError, ValueError, ImportError) as exc:
        problems.append(f'near-miss repair off: {exc}')
        return chosen
    wrapped: dict[int, AsrEngine] = {}
    return {lang: wrapped.setdefault(id(engine), TextFixingEngine(engine, repairer.repair))
            for lang, engine in chosen.items()}


_WORD = re.compile(r"[\w']+", re.UNICODE)


def language_margin(scores: dict[str, float], text: str, language: str, languages: Sequence[str]) -> float:
    """Evidence per word that ``text`` is ``language`` rather than the likeliest other of ``languages``."""
    others = [scores.get(lang, 0.0) for lang in languages if lang != language]
    return (scores.get(language, 0.0) - max(others, default=0.0)) / max(1, len(_WORD.findall(text)))


def text_language_judge(languages: Sequence[str]) -> Callable[[str, str], float] | None:
    """The dialogue's text language detector (:mod:`l2b2_dialogue.langdet`, built from its lexicon and the
    catalog, ~1 s) as a judge of Whisper's readings; None when it cannot be built (the ASR then goes without)."""
    try:
        from l2b2_dialogue.nlu import Understander
        detector = Understander(learned=False).language_detector
    except Exception:  # noqa: BLE001 - a broken lexicon or catalog must not stop the ASR
        return None
    langs = tuple(languages)
    return lambda text, language: language_margin(detector.scores(text), text, language, langs)
