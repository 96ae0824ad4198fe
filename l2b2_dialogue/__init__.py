"""The robot's brain: German/Turkish understanding (nlu) and the conversation state machine (engine)."""
from pathlib import Path

#: Intent phrases, function words and ordinals per language: read by the NLU and by the speech grammar
#: (here, so that the ASR gets the path without importing the NLU).
LEXICON_FILE = Path(__file__).with_name('lexicon.yaml')
