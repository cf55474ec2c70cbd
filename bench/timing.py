"""Timing beside a baseline: both run in turns, each figure the median of its runs."""

import statistics
import time
from dataclasses import dataclass


@dataclass
class Paired:
    """Median milliseconds of an action and of its baseline: wall clock, and this process's CPU
    (which other work on the machine does not lengthen)."""

    action: float
    baseline: float
    action_cpu: float
    baseline_cpu: float

    def cpu_note(self, faster=False):
        ratio = self.action_cpu / self.baseline_cpu
        if faster:
            ratio = 1 / ratio
        return f"by CPU time (steadier on a shared machine): {ratio:.1f}x"


def paired(action, baseline, repeat, action_runs=1):
    """Run `baseline` once and `action` `action_runs` times, `repeat` times over, in turns, so
    that a machine busy with something else for a while slows both alike."""
    wall = {action: [], baseline: []}
    cpu = {action: [], baseline: []}
    for _ in range(repeat):
        for each in (baseline, *[action] * action_runs):
            start, start_cpu = time.perf_counter(), time.process_time()
            each()
            wall[each].append(time.perf_counter() - start)
            cpu[each].append(time.process_time() - start_cpu)

    def median_ms(samples):
        return statistics.median(samples) * 1000

    return Paired(median_ms(wall[action]), median_ms(wall[baseline]), median_ms(cpu[action]),
                  median_ms(cpu[baseline]))  # fmt: skip
