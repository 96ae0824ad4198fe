"""faster-whisper (CTranslate2, CPU int8): the only German/Turkish-capable model that ships in packages.

One encoder pass per segment serves both language identification (restricted to the configured
languages) and decoding: the encoder is most of Whisper's time on this CPU, and the old way (detect,
then transcribe, which encodes again) paid it twice or three times. Whisper invents fluent text for
noise, so a segment is decoded only when it is loud enough and Silero VAD (bundled with faster-whisper)
finds speech, with a token budget that fits the speech's length, and each hypothesis must pass the
guards of :mod:`l2b2_speech.guards` (no-speech probability, log-probability, length against audio,
compression ratio, repetition). When two languages' readings compete, an implausible one (far too short for
the speech, or a copy of the prompt) loses and text evidence of its language (an injected judge) counts.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
import math
from pathlib import Path
import threading

import numpy as np

from l2b2_speech.asr_engine import SAMPLE_RATE, AsrEngine, AsrStream, BufferedStream, ModelError, Transcript
from l2b2_speech.guards import GuardLimits, cut_loop, implausible_reason, max_new_tokens, reject_reason, rms_dbfs

REQUIRED_FILES = ('model.bin', 'config.json', 'tokenizer.json', 'vocabulary.txt')


class WhisperEngine(AsrEngine):
    name = 'whisper'

    def __init__(self, model_dir: str | Path, languages: Sequence[str] = ('de', 'tr'), *, beam_size: int = 1,
                 cpu_threads: int = 2, min_avg_logprob: float = -1.5, max_no_speech_prob: float = 0.6,
                 clear_language_ratio: float = 4.0, prompts: dict[str, str] | None = None, n_best: int = 3,
                 limits: GuardLimits | None = None, encoder_pad_s: float | None = None, language_check: bool = True,
                 language_judge: Callable[[str, str], float] | None = None):
        model_dir = Path(model_dir)
        missing = [f for f in REQUIRED_FILES if not (model_dir / f).is_file()]
        if missing:
            raise ModelError(f'whisper model in {model_dir} is missing {", ".join(missing)} (run scripts/setup.sh)')
        try:
            from faster_whisper import WhisperModel
            from faster_whisper.audio import pad_or_trim
            from faster_whisper.tokenizer import Tokenizer
            from faster_whisper.vad import VadOptions, get_speech_timestamps
        except ImportError as exc:
            raise ModelError(f'faster-whisper is not installed: {exc}') from None
        try:
            self._model = WhisperModel(str(model_dir), device='cpu', compute_type='int8', cpu_threads=cpu_threads,
                                       num_workers=1)
        except Exception as exc:  # noqa: BLE001 - ctranslate2 raises RuntimeError/ValueError for broken files
            raise ModelError(f'whisper model in {model_dir} cannot be loaded: {exc}') from None
        self._pad, self._tokenizer_cls = pad_or_trim, Tokenizer
        self._speech_timestamps, self._vad_options = get_speech_timestamps, VadOptions(min_speech_duration_ms=150)
        self._languages = tuple(languages)
        self._lock = threading.Lock()
        self.beam_size = beam_size
        self.n_best = n_best
        self.clear_language_ratio = clear_language_ratio
        self.limits = limits or GuardLimits(min_avg_logprob=min_avg_logprob, max_no_speech_prob=max_no_speech_prob)
        #: Per-language initial prompts (the office's vocabulary, see grammar.whisper_prompt).
        self.prompts = dict(prompts or {})
        #: Why the last segment gave no transcript ('' when it gave one): for benchmarks and debugging.
        self.last_rejection = ''
        self._prompt_tokens: dict[str, list[int]] = {}
        #: None: the encoder sees Whisper's full 30 s window (the segment plus zeros), as trained. A number:
        #: only the segment plus this much silence (far cheaper: the encoder's cost grows with its input).
        self.encoder_pad_s = encoder_pad_s
        #: Choose between two languages' readings of one segment by more than the log-probability: a reading
        #: that is implausible (:func:`~l2b2_speech.guards.implausible_reason`) loses ``implausible_penalty``,
        #: and ``language_judge(text, language)`` (evidence per word that the text is in that language, e.g.
        #: the dialogue's text language detector; None: not used) adds up to ``judge_weight``. A single
        #: reading that is implausible gets the runner-up language decoded too.
        self.language_check = language_check
        self.language_judge = language_judge
        self.implausible_penalty = 1.0
        self.judge_weight = 0.5

    @property
    def languages(self) -> tuple[str, ...]:
        return self._languages

    def warm_up(self) -> None:
        """One throw-away decode: the first real one would otherwise pay CTranslate2's start-up (~1-2 s)."""
        tone = (0.1 * np.sin(np.linspace(0, 2 * np.pi * 220, SAMPLE_RATE))).astype(np.float32)
        with self._lock:
            encoded = self._encode(tone)
            self._generate(encoded, self._languages[0], 1.0)

    def open_stream(self, languages: Sequence[str]) -> AsrStream:
        return BufferedStream(self._decode, [lang for lang in languages if lang in self._languages] or self._languages)

    # --- decoding ---------------------------------------------------------------------------------------
    def _decode(self, samples: np.ndarray, languages: list[str]) -> Transcript | None:
        self.last_rejection = ''
        if samples.size < SAMPLE_RATE // 5:
            return self._reject('too short')
        if rms_dbfs(samples) < self.limits.min_rms_dbfs:
            return self._reject('silence')
        audio = samples.astype(np.float32) / 32768.0
        with self._lock:
            speech = self._speech_timestamps(audio, self._vad_options)
            speech_s = sum(s['end'] - s['start'] for s in speech) / SAMPLE_RATE
            if speech_s < self.limits.min_speech_s:
                return self._reject('no speech (VAD)')
            start_s, end_s = speech[0]['start'] / SAMPLE_RATE, speech[-1]['end'] / SAMPLE_RATE
            encoded = self._encode(audio)
            candidates = self.language_probabilities(encoded, languages, normalize=False)
            decode = self._languages_to_decode(candidates)
            hypotheses = []
            for lang in decode:
                hypotheses += self._generate(encoded, lang, speech_s)
            if self._needs_runner_up(decode, candidates, hypotheses, speech_s):
                hypotheses += self._generate(encoded, candidates[1][0], speech_s)
        believable = []
        for text, logprob, no_speech, lang in hypotheses:
            text = cut_loop(text)
            reason = reject_reason(text, speech_s=speech_s, avg_logprob=logprob, no_speech_prob=no_speech,
                                   limits=self.limits)
            if reason is None:
                believable.append((text, logprob, lang))
            else:
                self.last_rejection = self.last_rejection or reason
        if not believable:
            return self._reject(self.last_rejection or 'no hypothesis')
        if self.language_check and len({lang for _, _, lang in believable}) > 1:
            believable.sort(key=lambda h: self.language_fit(h[0], h[2], h[1], speech_s), reverse=True)
        else:
            believable.sort(key=lambda h: h[1], reverse=True)
        text, logprob, lang = believable[0]
        self.last_rejection = ''
        seen, alternatives = {text}, []
        for t, lp, lg in believable[1:]:
            if t not in seen:
                seen.add(t)
                alternatives.append((t, float(math.exp(lp)), lg))
        return Transcript(text=text, language=lang, confidence=float(math.exp(logprob)), start_s=start_s,
                          end_s=end_s, engine=self.name, alternatives=tuple(alternatives))

    def _reject(self, reason: str) -> None:
        self.last_rejection = reason
        return None

    def _encode(self, audio: np.ndarray):
        features = self._model.feature_extractor(audio)
        content = features.shape[-1] - 1  # as faster-whisper's transcribe(): the last frame is padding
        frames = self._model.feature_extractor.nb_max_frames
        if self.encoder_pad_s is not None:
            per_s = frames / 30.0
            frames = min(frames, int(content + self.encoder_pad_s * per_s) // 2 * 2)
        return self._model.encode(self._pad(features[:, :min(content, frames)], frames))

    def language_probabilities(self, encoded, languages: Sequence[str], normalize: bool = True
                               ) -> list[tuple[str, float]]:
        """The configured languages' probabilities from the encoder output (renormalised among them unless
        ``normalize`` is False), best first."""
        if len(languages) == 1:
            return [(languages[0], 1.0)]
        probs = {token[2:-2]: p for token, p in self._model.model.detect_language(encoded)[0]}
        allowed = [(lang, probs.get(lang, 0.0)) for lang in languages]
        total = (sum(p for _, p in allowed) or 1.0) if normalize else 1.0
        return sorted(((lang, p / total) for lang, p in allowed), key=lambda x: x[1], reverse=True)

    def _languages_to_decode(self, ranked: list[tuple[str, float]]) -> list[str]:
        """The likeliest language; the runner-up too when detection is not clear (decoder passes only):
        when the top language is not ``clear_language_ratio`` times likelier than the runner-up, or the
        audio sounds like none of the configured languages (top probability below 5 % of all languages)."""
        if len(ranked) == 1:
            return [ranked[0][0]]
        (l1, p1), (l2, p2) = ranked[0], ranked[1]
        return [l1] if p1 >= 0.05 and p1 >= self.clear_language_ratio * max(p2, 1e-9) else [l1, l2]

    def _needs_runner_up(self, decoded: list[str], ranked: list[tuple[str, float]], hypotheses: list,
                         speech_s: float) -> bool:
        """Only one language was decoded, its best reading passes the guards but is implausible: the
        runner-up language is decoded too (one more decoder pass, rare)."""
        if not self.language_check or len(decoded) != 1 or len(ranked) < 2 or not hypotheses:
            return False
        text, logprob, no_speech, lang = hypotheses[0]
        text = cut_loop(text)
        return (reject_reason(text, speech_s=speech_s, avg_logprob=logprob, no_speech_prob=no_speech,
                              limits=self.limits) is None
                and implausible_reason(text, speech_s=speech_s, prompt=self.prompts.get(lang, '')) is not None)

    def language_fit(self, text: str, language: str, logprob: float, speech_s: float) -> float:
        """How well ``text`` as ``language`` fits the segment: the mean token log-probability, minus
        ``implausible_penalty`` for an implausible reading, plus ``judge_weight`` x the text evidence per
        word (clipped to -1..1)."""
        score = logprob
        if implausible_reason(text, speech_s=speech_s, prompt=self.prompts.get(language, '')) is not None:
            score -= self.implausible_penalty
        if self.language_judge is not None:
            try:
                evidence = float(self.language_judge(text, language))
            except Exception:  # noqa: BLE001 - a broken judge must not lose the transcript
                evidence = 0.0
            score += self.judge_weight * max(-1.0, min(1.0, evidence))
        return score

    def _prompt(self, language: str) -> list[int]:
        if language not in self._prompt_tokens:
            tok = self._tokenizer_cls(self._model.hf_tokenizer, True, task='transcribe', language=language)
            prompt = []
            hint = self.prompts.get(language)
            if hint:
                prompt = [tok.sot_prev, *tok.encode(' ' + hint.strip())[:self._model.max_length // 2 - 1]]
            self._prompt_tokens[language] = [*prompt, *tok.sot_sequence, tok.no_timestamps]
        return self._prompt_tokens[language]

    def _generate(self, encoded, language: str, speech_s: float) -> list[tuple[str, float, float, str]]:
        """Hypotheses (text, mean token log-probability, no-speech probability, language), best first."""
        prompt = self._prompt(language)
        beam = max(1, self.beam_size)
        result = self._model.model.generate(
            encoded, [prompt], beam_size=beam, num_hypotheses=min(beam, max(1, self.n_best)),
            max_length=min(self._model.max_length, len(prompt) + max_new_tokens(speech_s)),
            return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=[-1])[0]
        tok = self._tokenizer_cls(self._model.hf_tokenizer, True, task='transcribe', language=language)
        out = []
        for ids, score in zip(result.sequences_ids, result.scores, strict=True):
            n = len(ids)
            avg_logprob = score * n / (n + 1)  # faster-whisper's recovery of the mean (length penalty 1)
            out.append((tok.decode(ids).strip(), avg_logprob, result.no_speech_prob, language))
        return out
