"""PRM interface helpers."""


def test_rewards_are_quantised_in_log_odds():
    from tts.prm.base import PRMScore, quantize_reward

    # Float noise from batch padding (~1e-9) lands on the same grid point...
    assert quantize_reward(0.7310585786) == quantize_reward(0.7310585786 + 3e-9)
    # ...while confident judgements keep their order (rounding probabilities would tie them).
    assert quantize_reward(0.99999) > quantize_reward(0.9999) > quantize_reward(0.999)
    assert [quantize_reward(x) for x in (0.0, 0.5, 1.0)] == [0.0, 0.5, 1.0]
    assert abs(quantize_reward(0.3) - 0.3) < 0.003
    assert PRMScore([0.2, 0.8]).rewards == [quantize_reward(0.2), quantize_reward(0.8)]
