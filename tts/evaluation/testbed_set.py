"""The testbed's own ProcessBench set, shipped with the package: per family of problems, two
subsets, like ProcessBench's per-source subsets, whose F1s are averaged:

- ``{family}-corruption``: gold solutions with one injected mistake (or none), from
  ``make_processbench``;
- ``{family}-policy``: the shipped policy's own samples, labelled by the exact step checker (the
  errors a search will actually meet); half with an error, half without where the policy gets
  enough right, so both accuracies of the metric are measured on as many samples (and left out
  where fewer than a fifth of either kind can be had).

Families: ``testbed`` (the in-grid test split), and the out-of-grid splits ``long`` (more
operations than any training chain) and ``large`` (three-digit operands of + and -).

Rebuild with ``python -m tts.evaluation.testbed_set`` (deterministic on the HF backend).
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from tts.tasks.corrupt import make_processbench
from tts.tasks.processbench import label_policy_samples
from tts.tasks.records import ProcessBenchSample, load_processbench, save_records
from tts.tasks.splits import testbed_split

SHIPPED = Path(str(resources.files("tts") / "assets" / "data" / "processbench_testbed.jsonl"))
# family -> (split, samples per subset)
FAMILIES = {"testbed": ("test", 300), "long": ("long", 150), "large": ("large", 150)}
IN_GRID_FAMILIES = ("testbed",)


def family_of(subset: str) -> str:
    return subset.rsplit("-", 1)[0]


def build(policy, seed: int = 0) -> list[ProcessBenchSample]:
    from tts.policy.base import Prefix, Sampling

    out: list[ProcessBenchSample] = []
    for family, (split, size) in FAMILIES.items():
        problems = testbed_split(split)
        out += make_processbench(problems[:size], seed=seed, error_fraction=0.5, subset=f"{family}-corruption")
        sampled: list[ProcessBenchSample] = []
        longest = max(len(p.steps) for p in problems)
        outs = policy.generate([Prefix(p.problem) for p in problems], 4,
                               Sampling(temperature=0.8, max_tokens=32 * longest + 32), stop_at_step=False)
        for p, cands in zip(problems, outs, strict=True):
            got, _ = label_policy_samples(p, [c.text for c in cands], generator="tiny-policy",
                                          subset=f"{family}-policy")
            sampled += got
        wrong = [s for s in sampled if s.label >= 0]
        right = [s for s in sampled if s.label < 0]
        right = right[: size // 2]
        wrong = wrong[: size - len(right)]
        if min(len(right), len(wrong)) < size // 5:
            # F1 needs both kinds; where the policy is (almost) never right, the family is measured
            # on its corruption subset alone.
            print(f"{family}-policy left out: {len(right)} right and {len(wrong)} wrong samples")
            continue
        # Interleaved, so the first N of the subset (``--limit``) stay balanced too.
        mixed = [s for pair in zip(wrong, right, strict=False) for s in pair]
        out += mixed + wrong[len(mixed) // 2 :] + right[len(mixed) // 2 :]
    return out


def testbed_processbench(limit_per_subset: int | None = None) -> list[ProcessBenchSample]:
    """The shipped set (first ``limit_per_subset`` samples of each subset)."""
    if not SHIPPED.is_file():
        raise FileNotFoundError(f"the testbed ProcessBench set is missing at {SHIPPED}; rebuild it with "
                                "`python -m tts.evaluation.testbed_set`")
    samples = load_processbench(SHIPPED)
    if limit_per_subset is None:
        return samples
    seen: dict[str, int] = {}
    out = []
    for s in samples:
        seen[s.subset] = seen.get(s.subset, 0) + 1
        if seen[s.subset] <= limit_per_subset:
            out.append(s)
    return out


if __name__ == "__main__":
    import argparse

    from tts.policy import load_policy

    parser = argparse.ArgumentParser(description="Rebuild the shipped testbed ProcessBench set.")
    parser.add_argument("--policy", default="tiny-policy", help="the policy whose samples make the -policy subsets")
    samples = build(load_policy("hf", parser.parse_args().policy, seed=0))
    SHIPPED.parent.mkdir(parents=True, exist_ok=True)
    save_records(SHIPPED, samples)
    for g in sorted({s.subset for s in samples}):
        sub = [s for s in samples if s.subset == g]
        print(g, len(sub), "with an error:", sum(s.label >= 0 for s in sub))
