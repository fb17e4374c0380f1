"""Experiments: the Hydra-driven grid of a run, the crash-safe results store, local and Ray
runners, the results table, scaling curves and the tree viewer. Entry points (``tts run``,
``tts sweep``, ``tts plot``, ``tts show``) are the only code that sees Hydra configs."""

from tts.experiments.plot import plot_scaling
from tts.experiments.store import ResultStore, TornRecordWarning, read_records
from tts.experiments.table import summarize

__all__ = ["ResultStore", "TornRecordWarning", "plot_scaling", "read_records", "summarize"]
