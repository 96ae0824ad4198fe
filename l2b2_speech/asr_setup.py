"""Which recognizer decodes which language: one choice for the ASR node and ``l2b2-transcribe``.

Vosk wherever config/speech_models.yaml has a model for the language (and the engine setting allows
it), else faster-whisper (the only German/Turkish model that ships). A broken model loses only its
own language; every problem is returned as a sentence for the health line.
"""
from __future__ import annotations

from dataclasses import dataclass

from l2b2_common.config import ConfigError
from l2b2_common.tunables import tunable
from l2b2_speech.asr_engine import AsrEngine, ModelError
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
        'window, as the model was trained. 1.0: an encoder about ten times cheaper for a 3 s request (see '
        'docs/speech.md for its measured accuracy).', min=0.5, max=30.0)
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
            whisper = WhisperEngine(models.whisper, need_whisper, beam_size=choice.whisper_beam_size,
                                    cpu_threads=choice.whisper_cpu_threads, prompts=prompts,
                                    encoder_pad_s=None if choice.whisper_encoder_pad_s >= 30.0
                                    else choice.whisper_encoder_pad_s)
            chosen.update({lang: whisper for lang in need_whisper})
        except ModelError as exc:
            problems.append(str(exc))
    missing = [lang for lang in choice.languages if lang not in chosen]
    if missing:
        problems.append(f'no speech recognition for {", ".join(missing)}')
    return chosen, problems
