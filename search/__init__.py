"""Search strategies, written only against the public ``tts`` API. Each is a factory: call it
with its settings to get a strategy for ``tts.search``."""

from search.beam import beam_search
from search.best_of_n import best_of_n
from search.dvts import dvts
from search.majority import majority_vote
from search.mcts import mcts
from search.particle_filter import particle_filter
from search.prm_resample import prm_resample
from search.refine import refine
from search.sample_pool import sample_pool
from search.self_refine import self_refine

__all__ = ["beam_search", "best_of_n", "dvts", "majority_vote", "mcts", "particle_filter", "prm_resample",
           "refine", "sample_pool", "self_refine"]
