"""Timing beside a baseline, like for like: both warmed up alike, both timed the same number of
runs, in turns (the order flipped every round), each figure the median of its runs."""

import statistics
import time
from dataclasses import dataclass


@dataclass
class Paired:
    """Median milliseconds of an action and of its baseline: wall clock, and this process's CPU
    (which other work on the machine does not lengthen); `runs` of each."""

    action: float
    baseline: float
    action_cpu: float
    baseline_cpu: float
    runs: int = 0

    def cpu_note(self, faster=False):
        ratio = self.action_cpu / self.baseline_cpu
        if faster:
            ratio = 1 / ratio
        return f"by CPU time (steadier on a shared machine): {ratio:.1f}x"

    @property
    def runs_note(self):
        return f"each side warmed up once, then timed {self.runs} times in turns"


def paired(action, baseline, repeat, warmup=1):
    """Warm each side up `warmup` times, then run both `repeat` times in turns, baseline first in
    odd rounds and action first in even ones, so that a machine busy with something else for a
    while slows both alike, and neither always runs right after the other."""
    for _ in range(warmup):
        baseline()
        action()
    wall = {action: [], baseline: []}
    cpu = {action: [], baseline: []}
    for round_ in range(repeat):
        for each in (baseline, action) if round_ % 2 == 0 else (action, baseline):
            start, start_cpu = time.perf_counter(), time.process_time()
            each()
            wall[each].append(time.perf_counter() - start)
            cpu[each].append(time.process_time() - start_cpu)

    def median_ms(samples):
        return statistics.median(samples) * 1000

    return Paired(median_ms(wall[action]), median_ms(wall[baseline]), median_ms(cpu[action]),
                  median_ms(cpu[baseline]), repeat)  # fmt: skip
