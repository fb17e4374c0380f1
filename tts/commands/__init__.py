"""Subcommands of the ``tts`` command line, one module each."""
