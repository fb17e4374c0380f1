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


def test_quantisation_never_moves_a_reward_across_the_threshold():
    from tts.prm.base import PRMScore, first_wrong_step, quantize_reward

    for r in (0.49875, 0.4999, 0.49999999, 0.499):
        assert quantize_reward(r) < 0.5, r
    for r in (0.50125, 0.5001, 0.50000001):
        assert quantize_reward(r) > 0.5, r
    assert quantize_reward(0.5) == 0.5
    # A Maj@2 split: one confident Yes, one No; the mean is just below 0.5 and stays "wrong".
    score = PRMScore([(0.9995 + 0.0) / 2])
    assert score.rewards[0] < 0.5 and first_wrong_step(score.rewards) == 0
    # Noise near the threshold still lands on one grid point (determinism kept).
    assert quantize_reward(0.4999) == quantize_reward(0.4999 + 3e-9)
