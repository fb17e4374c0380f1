"""Bootstrap intervals over problems."""

import numpy as np
import pytest

from tts.experiments.stats import mean_interval


def test_interval_contains_the_mean_and_narrows_with_more_problems():
    rng = np.random.default_rng(0)
    small = rng.random(16) < 0.4
    big = rng.random(1024) < 0.4
    m, lo, hi = mean_interval(small)
    assert lo <= m <= hi and 0 <= lo < hi <= 1
    m2, lo2, hi2 = mean_interval(big)
    assert hi2 - lo2 < (hi - lo) / 4
    assert abs(m2 - 0.4) < hi2 - lo2  # the truth is inside at this size
    # A binomial 95 % interval half-width is about 1.96 sqrt(p(1-p)/n).
    assert (hi2 - lo2) / 2 == pytest.approx(1.96 * np.sqrt(m2 * (1 - m2) / 1024), rel=0.15)
    assert mean_interval([1, 1, 1]) == (1.0, 1.0, 1.0)
    assert mean_interval(small) == (m, lo, hi)  # seeded: a table printed twice agrees
    with pytest.raises(ValueError, match="no values"):
        mean_interval([])
