"""Search strategies, written only against the public API of ``tts`` (see ``tts/__init__.py``)."""
