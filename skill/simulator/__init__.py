"""A local Alexa simulator: utterances -> request envelopes -> the skill -> what the user would hear.

`hip-helper chat` and `hip-helper check-model` live here, and so does the engine the conversation tests use.
"""
