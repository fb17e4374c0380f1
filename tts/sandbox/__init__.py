"""Sandboxed execution of model-written Python (the generative PRM's verification code)."""

from tts.sandbox.pool import ExecResult, SandboxLimits, SandboxPool, Snippet

__all__ = ["ExecResult", "SandboxLimits", "SandboxPool", "Snippet"]
