"""Smoke test of the speech benchmark (tiny sizes): it runs and reports every promised figure."""
import json

import pytest

from l2b2_bringup.bench import main as bench_main


@pytest.mark.slow
def test_speech_bench_quick_reports_all_figures(capsys):
    assert bench_main(['speech', '--json', '--quick']) == 0
    figures = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {'whisper_de', 'whisper_tr', 'vosk_ko'} <= set(figures['asr_rtf'])
    assert figures['peak_rss_mb'] > 0
    # Latencies are measured, not asserted (a benchmark never gates the tests): on a loaded machine a
    # quick run may time out on one and report NaN, but every figure must be reported as a number.
    for key in ('tts_first_audio_ms', 'speech_end_to_text_ms', 'speech_end_to_answer_ms',
                'speech_end_to_text_ms_vosk'):
        assert isinstance(figures[key], (int, float)), key
