"""Timing beside a baseline: both run in turns, each figure the median of its runs."""

import statistics
import time


def paired(action, baseline, repeat):
    """Median milliseconds of `action` and of `baseline`, run in turns so that a machine busy
    with something else for a while slows both alike."""
    times = {action: [], baseline: []}
    for _ in range(repeat):
        for each in (baseline, action):
            start = time.perf_counter()
            each()
            times[each].append(time.perf_counter() - start)
    return [statistics.median(times[each]) * 1000 for each in (action, baseline)]
