"""A custom strategy in ~30 lines, written only against the public tts API: take the greedy
solution, and if the PRM doubts it (min step reward < threshold), sample n more and answer with
the PRM-weighted vote. Run: ``python examples/greedy_then_vote.py``."""

from tts import Expand, Outcome, Prefix, Score, StepSettings, aggregate, solution_answer, vote_index


def greedy_then_vote(n: int = 4, threshold: float = 0.5, steps: StepSettings | None = None):
    steps = steps or StepSettings()  # the run's sampling, length caps and delimiter (tts run steps.*=...)

    def strategy(problem):
        [[first]] = yield Expand([Prefix(problem.problem)], 1, steps.greedy(whole=True), to_end=True,
                                 delimiter=steps.delimiter)
        greedy = steps.split(first.text)
        [score] = yield Score([Prefix(problem.problem, tuple(greedy))])
        if aggregate(score.rewards, "min") >= threshold:
            return Outcome(greedy, score=aggregate(score.rewards, "min"))
        [more] = yield Expand([Prefix(problem.problem)], n, steps.solution(), to_end=True, delimiter=steps.delimiter)
        solutions = [greedy] + [steps.split(c.text) for c in more]
        scores = yield Score([Prefix(problem.problem, tuple(s)) for s in solutions])
        values = [aggregate(s.rewards, "min") for s in scores]
        answers = [solution_answer(s) for s in solutions]
        best = vote_index(answers, values)
        best = 0 if best is None else best
        return Outcome(solutions[best], score=values[best])

    return strategy


if __name__ == "__main__":
    from tts import load_policy, load_prm, search
    from tts.tasks.splits import testbed_split

    results = search(testbed_split("dev", limit=16), greedy_then_vote(), load_policy("hf"), load_prm("genprm", backend="hf"),
                     budget=1024)
    print(f"accuracy {sum(r.correct for r in results)}/{len(results)}, "
          f"policy tokens {sum(r.spend.policy_generated for r in results)}")
