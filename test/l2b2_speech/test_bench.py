"""Smoke test of the speech benchmark (tiny sizes): it runs and reports every promised figure.

A benchmark never gates the tests: on a loaded machine a quick run may time out on a sample, and the
figure is then ``null`` with the sample counted under its ``*_failures`` key. So this test checks that
every key is there with the right type, that a missing latency is explained by a counted failure, and
that counts add up — not the machine's speed.
"""
import json
import math

import pytest

from l2b2_bringup.bench import main as bench_main


def number_or_none(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value))


def share(value) -> bool:
    return value is None or (isinstance(value, (int, float)) and 0.0 <= value <= 1.0)


@pytest.mark.slow
def test_speech_bench_quick_reports_all_figures(capsys):
    assert bench_main(['speech', '--json', '--quick']) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {'whisper_de', 'whisper_tr', 'vosk_ko'} <= set(figures['asr_rtf'])
    assert all(isinstance(v, float) and v > 0 for v in figures['asr_rtf'].values())
    assert figures['peak_rss_mb'] > 0
    for key in ('tts_first_audio_ms', 'speech_end_to_text_ms', 'speech_end_to_answer_ms',
                'speech_end_to_answer_p95_ms', 'speech_end_to_text_ms_vosk', 'barge_in_stop_ms',
                'decode_p50_ms', 'decode_p95_ms'):
        assert number_or_none(figures[key]), key
    for suffix in ('', '_vosk'):
        failures, samples = figures[f'speech_end_to_answer_failures{suffix}'], figures[f'speech_end_to_answer_samples{suffix}']
        assert isinstance(failures, int) and isinstance(samples, int) and 0 <= failures <= samples == 1
        # A latency is missing only when every sample failed, and then it is missing.
        assert (figures[f'speech_end_to_answer_ms{suffix}'] is None) == (failures == samples)
    assert isinstance(figures['barge_in_failures'], int)
    assert (figures['barge_in_stop_ms'] is None) == (figures['barge_in_failures'] == 1)
    assert set(figures['answer_breakdown_p50_ms']) == {'hangover', 'decode', 'dialogue', 'tts'}
    assert all(number_or_none(v) for v in figures['answer_breakdown_p50_ms'].values())
    # The spoken-understanding section (one held-out sentence per language, 20 dB SNR, 6 noise segments).
    for lang in ('de', 'tr'):
        for key in (f'spoken_accuracy_{lang}_snr20', f'typed_accuracy_{lang}', f'language_id_accuracy_{lang}',
                    f'spoken_confident_wrong_{lang}_snr20'):
            assert share(figures[key]) and figures[key] is not None, key
        assert isinstance(figures[f'wer_{lang}_snr20'], float) and figures[f'wer_{lang}_snr20'] >= 0.0
        assert figures[f'spoken_sentences_{lang}'] == 1
    assert figures['hallucination_noise_segments'] == 6 and share(figures['hallucination_rate_noise'])
