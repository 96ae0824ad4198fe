"""``l2b2-transcribe``: any WAV in, one JSON line per file out; a broken file does not stop the rest."""
from __future__ import annotations

import json
from pathlib import Path
import wave

import numpy as np
import pytest

from l2b2_dialogue.nlu import INTENTS
from l2b2_speech.audio import WavError, parse_wav, read_wav, silence, visitor_speech, write_wav
from l2b2_speech.transcribe import main, to_asr_rate, windows


def tone(seconds: float = 0.5, rate: int = 16000) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (0.4 * np.sin(2 * np.pi * 440 * t) * 32767).astype(np.int16)


def riff(tag: int, channels: int, rate: int, bits: int, data: bytes, extensible: bool = False) -> bytes:
    align = channels * bits // 8
    fmt = (tag if not extensible else 0xFFFE).to_bytes(2, 'little') + channels.to_bytes(2, 'little') + \
        rate.to_bytes(4, 'little') + (rate * align).to_bytes(4, 'little') + align.to_bytes(2, 'little') + \
        bits.to_bytes(2, 'little')
    if extensible:
        fmt += (22).to_bytes(2, 'little') + bits.to_bytes(2, 'little') + (3).to_bytes(4, 'little') + \
            tag.to_bytes(2, 'little') + bytes(14)
    body = b'WAVE' + b'fmt ' + len(fmt).to_bytes(4, 'little') + fmt + b'data' + len(data).to_bytes(4, 'little') + data
    return b'RIFF' + len(body).to_bytes(4, 'little') + body


@pytest.mark.parametrize(('tag', 'bits', 'encode'), [
    (1, 8, lambda x: (np.round(x * 127) + 128).astype(np.uint8).tobytes()),
    (1, 16, lambda x: np.round(x * 32767).astype('<i2').tobytes()),
    (1, 24, lambda x: b''.join(int(v).to_bytes(3, 'little', signed=True) for v in np.round(x * 8388607))),
    (1, 32, lambda x: np.round(x * 2147483647).astype('<i4').tobytes()),
    (3, 32, lambda x: x.astype('<f4').tobytes()),
    (3, 64, lambda x: x.astype('<f8').tobytes()),
], ids=['pcm8', 'pcm16', 'pcm24', 'pcm32', 'float32', 'float64'])
@pytest.mark.parametrize('extensible', [False, True], ids=['plain', 'extensible'])
def test_every_common_wav_encoding_reads_as_the_same_int16_audio(tag, bits, encode, extensible):
    x = tone().astype(np.float64) / 32768.0
    stereo = np.stack([x, x], axis=1).ravel()  # both channels equal: the mix-down is the signal
    samples, rate = parse_wav(riff(tag, 2, 22050, bits, encode(stereo), extensible))
    assert rate == 22050 and samples.dtype == np.int16 and samples.size == x.size
    tolerance = 300 if bits == 8 else 2
    assert np.max(np.abs(samples.astype(int) - tone().astype(int))) <= tolerance


@pytest.mark.parametrize(('blob', 'reason'), [
    (b'', 'not a WAV'), (b'RIFF\x00\x00\x00\x00WAVEjunk', 'no format chunk'),
    (riff(1, 1, 16000, 16, b'')[:-8], 'no audio data'), (riff(1, 1, 16000, 16, b''), 'no samples'),
    (riff(2, 1, 16000, 4, b'\x00' * 100), 'unsupported sample size'),
    (riff(85, 1, 16000, 16, b'\x00' * 100), 'unsupported encoding'),
])
def test_broken_files_raise_a_clear_error(blob, reason):
    with pytest.raises(WavError, match=reason):
        parse_wav(blob, 'x.wav')


def test_read_wav_reads_what_write_wav_wrote_and_names_a_missing_file(tmp_path):
    write_wav(tmp_path / 'a.wav', tone(), 16000)
    samples, rate = read_wav(tmp_path / 'a.wav')
    assert rate == 16000 and np.array_equal(samples, tone())
    with pytest.raises(WavError, match='nowhere.wav: cannot read'):
        read_wav(tmp_path / 'nowhere.wav')


def test_rate_conversion_keeps_duration_and_pitch():
    x = tone(1.0, 48000)
    y = to_asr_rate(x, 48000)
    assert y.size == 16000
    spectrum = np.abs(np.fft.rfft(y.astype(float)))
    assert abs(np.argmax(spectrum) - 440) <= 1  # 1 Hz bins over one second


def test_long_recordings_are_cut_at_pauses_into_whisper_windows():
    speech = visitor_speech('Guten Tag, wo ist das Standesamt?', 'de')
    audio = np.concatenate([np.concatenate([speech, silence(1.0)])] * 16)
    assert audio.size > 30 * 16000
    parts = windows(audio)
    assert len(parts) >= 2 and all(p.size <= 28.5 * 16000 for p in parts)
    assert windows(speech)[0] is speech


@pytest.mark.slow
def test_files_in_any_format_give_one_json_line_each_and_a_broken_file_does_not_stop_the_rest(tmp_path, capsys):
    speech = np.concatenate([silence(0.3), visitor_speech('Guten Tag', 'de', 130), silence(0.3)])
    write_wav(tmp_path / 'mono16k.wav', speech, 16000)
    from scipy.signal import resample_poly
    stereo = np.repeat(np.round(resample_poly(speech.astype(float), 3, 1))[:, None], 2, axis=1)
    with wave.open(str(tmp_path / 'stereo48k.wav'), 'wb') as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(48000)
        w.writeframes(np.clip(stereo, -32768, 32767).astype('<i2').tobytes())
    (tmp_path / 'broken.wav').write_bytes(b'RIFF....WAVEnot audio')
    files = [str(tmp_path / n) for n in ('mono16k.wav', 'broken.wav', 'stereo48k.wav')]
    assert main(['--lang', 'de', '--nlu', *files]) == 1  # 1: one file failed
    lines = [json.loads(line) for line in capsys.readouterr().out.strip().splitlines()]
    assert [line['file'] for line in lines] == files
    good, broken, converted = lines
    assert broken == {'file': files[1], 'error': f'{files[1]}: no format chunk'}
    for line in (good, converted):
        assert line['language'] == 'de' and 'guten' in line['text'].lower()
        assert 0.0 < line['confidence'] <= 1.0 and line['decode_ms'] > 0
        assert line['intent'] in INTENTS and 0.0 <= line['nlu_confidence'] <= 1.0
    assert good['intent'] == 'greeting'


def test_console_script_is_registered():
    setup = (Path(__file__).resolve().parents[2] / 'setup.py').read_text()
    assert "'l2b2-transcribe': 'l2b2_speech.transcribe:main'" in setup
