"""How often ``python -m pytest_wa compare`` says what, on runs of known difference.

Each case draws 1,000 seeded pairs of runs (normal values, the noise given as a
coefficient of variation) and counts the verdicts at the default settings
(threshold 5 %, alpha 0.05). docs/statistics.md quotes the numbers; seeds
0..999 (``random.Random(seed)``) make them reproducible. Under ten seconds.

    python benchmarks/compare_verdicts.py
"""

from __future__ import annotations

import random
import time
from collections import Counter

from pytest_wa.compare.verdicts import VERDICTS, compare

#: (true change of this run's mean, noise as CV, iterations in each run)
CASES = [
    (0.00, 0.02, 5), (0.00, 0.05, 5), (0.00, 0.10, 5), (0.00, 0.10, 10),
    (0.10, 0.02, 5), (0.10, 0.05, 5), (0.10, 0.05, 10), (0.10, 0.10, 10),
    (0.05, 0.02, 5), (0.03, 0.02, 5), (0.10, 0.02, 3),
]
TRIALS = 1000


def count(change: float, cv: float, n: int) -> Counter[str]:
    """Verdicts of TRIALS seeded pairs, lower is better (a slower run regressed)."""
    found: Counter[str] = Counter()
    for seed in range(TRIALS):
        rng = random.Random(seed)
        base = [rng.gauss(100, 100 * cv) for _ in range(n)]
        this = [rng.gauss(100 * (1 + change), 100 * cv) for _ in range(n)]
        found[compare(base, this, lower_is_better=True).verdict] += 1
    return found


def main() -> None:
    start = time.perf_counter()
    print(f"{'change':>6}  {'CV':>4}  {'n':>3}  " + "  ".join(f"{v:>12}" for v in VERDICTS))
    for change, cv, n in CASES:
        found = count(change, cv, n)
        print(f"{change:>+6.0%}  {cv:>4.0%}  {n:>3}  "
              + "  ".join(f"{found[v]:>12}" for v in VERDICTS))
    print(f"({TRIALS} seeded trials a case, {time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
