import os

from hypothesis import settings

# Numba compiles on first call, so the first example of a property test can be slow; time is not
# what these tests check. CI runs more examples than the local loop.
settings.register_profile("default", max_examples=100, deadline=None)
settings.register_profile("ci", max_examples=300, deadline=None)
settings.load_profile("ci" if os.environ.get("CI") else "default")
