"""Evaluations of PRMs (ProcessBench)."""

from tts.evaluation.processbench import ProcessBenchResult, evaluate_processbench, processbench_metrics

__all__ = ["ProcessBenchResult", "evaluate_processbench", "processbench_metrics"]
