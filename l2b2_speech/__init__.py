"""Offline German/Turkish listening (Vosk, faster-whisper) and speaking (Piper, espeak-ng) for l2b2."""
