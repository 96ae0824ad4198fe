"""VAD segmentation on synthesized speech with known silences."""
from __future__ import annotations

import numpy as np
import pytest

from l2b2_speech.audio import ASR_RATE, noise, silence, visitor_speech
from l2b2_speech.vad import VadConfig, VadSegmenter


def segments(audio: np.ndarray, block: int = 320, config: VadConfig | None = None):
    vad = VadSegmenter(config)
    chunks = []
    for i in range(0, audio.size, block):
        chunks.extend(vad.feed(audio[i:i + block]))
    chunks.extend(vad.flush())
    out = {}
    for c in chunks:
        seg = out.setdefault(c.segment_id, {'start': None, 'end': None, 'samples': 0})
        if c.start:
            seg['start'] = c.offset
        seg['samples'] += c.samples.size
        if c.end:
            seg['end'] = c.offset + c.samples.size
    return out


@pytest.fixture(scope='module')
def two_utterances():
    first = visitor_speech('Guten Tag.', 'de')
    second = visitor_speech('Wo ist das Standesamt?', 'de')
    parts = [silence(1.0), first, silence(1.2), second, silence(1.0)]
    bounds = np.cumsum([0] + [p.size for p in parts])
    return np.concatenate(parts), (bounds[1], bounds[2]), (bounds[3], bounds[4])


@pytest.mark.parametrize('block', [160, 320, 1600, 16000])
def test_two_utterances_give_two_segments_with_boundaries_near_the_speech(two_utterances, block):
    audio, first, second = two_utterances
    segs = segments(audio, block)
    assert list(segs) == [1, 2]
    tolerance = int(0.35 * ASR_RATE)
    for seg, (start, end) in zip(segs.values(), (first, second), strict=True):
        assert abs(seg['start'] - start) < tolerance, (seg, start)
        # The end includes the hang-over (end_silence_ms) after the last voiced frame.
        assert start < seg["end"] <= end + int(VadConfig().end_silence_ms * ASR_RATE // 1000) + 320 + tolerance
        assert seg['end'] >= end - tolerance
        assert seg['samples'] == seg['end'] - seg['start']  # contiguous, nothing lost


def test_silence_and_very_quiet_noise_give_no_segment():
    assert segments(np.concatenate([silence(2.0), noise(2.0, 0.001)])) == {}


def test_a_click_is_a_short_segment_that_is_ended():
    click = (np.sin(np.linspace(0, 60 * np.pi, 1600)) * 20000).astype(np.int16)  # 100 ms tone
    config = VadConfig(start_frames=2, aggressiveness=0)
    segs = segments(np.concatenate([silence(0.5), click, silence(1.0)]), config=config)
    assert segs, 'the click starts a segment'
    # Pre-roll, the click, the hang-over: the ASR's min_segment_s is what tells clicks from utterances.
    longest = (config.pre_roll_ms + 100 + config.end_silence_ms + 2 * config.frame_ms) * ASR_RATE // 1000
    assert all(s['end'] is not None and s['samples'] <= longest for s in segs.values())


def test_long_speech_is_cut_at_max_segment():
    speech = visitor_speech('Ich möchte bitte einen neuen Personalausweis beantragen und einen Reisepass.', 'de')
    segs = segments(np.concatenate([speech, speech, silence(0.5)]), config=VadConfig(max_segment_s=2.0))
    assert len(segs) >= 2
    assert all(s['samples'] <= 2.0 * ASR_RATE + 0.3 * ASR_RATE for s in segs.values())


def test_config_rejects_unsupported_rates():
    with pytest.raises(ValueError, match='webrtcvad'):
        VadConfig(sample_rate=22050)
