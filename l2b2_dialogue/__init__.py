"""The robot's brain: German/Turkish understanding (nlu) and the conversation state machine (engine)."""
