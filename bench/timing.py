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
    # The database server's CPU milliseconds for each side, when `paired` was given a way to read
    # it (PostgreSQL); None otherwise. The mean of the runs, not the median: /proc counts in clock
    # ticks (10 ms), coarser than one run's share.
    action_server_cpu: float | None = None
    baseline_server_cpu: float | None = None

    def cpu_note(self, faster=False):
        ratio = self.action_cpu / self.baseline_cpu
        if faster:
            ratio = 1 / ratio
        return f"by CPU time (steadier on a shared machine): {ratio:.1f}x"

    @property
    def runs_note(self):
        return f"each side warmed up once, then timed {self.runs} times in turns"


def paired(action, baseline, repeat, warmup=1, server_cpu=None):
    """Warm each side up `warmup` times, then run both `repeat` times in turns, baseline first in
    odd rounds and action first in even ones, so that a machine busy with something else for a
    while slows both alike, and neither always runs right after the other.

    `server_cpu`: a function giving the database server's CPU seconds so far for this process's
    connections (bench.database.ServerCpu), read around each run as well."""
    for _ in range(warmup):
        baseline()
        action()
    wall = {action: [], baseline: []}
    cpu = {action: [], baseline: []}
    server = {action: [], baseline: []}
    for round_ in range(repeat):
        for each in (baseline, action) if round_ % 2 == 0 else (action, baseline):
            start_server = server_cpu() if server_cpu else None
            start, start_cpu = time.perf_counter(), time.process_time()
            each()
            wall[each].append(time.perf_counter() - start)
            cpu[each].append(time.process_time() - start_cpu)
            if start_server is not None:
                server[each].append(server_cpu() - start_server)

    def median_ms(samples):
        return statistics.median(samples) * 1000

    timed = Paired(median_ms(wall[action]), median_ms(wall[baseline]), median_ms(cpu[action]),
                   median_ms(cpu[baseline]), repeat)  # fmt: skip
    if server[action]:
        timed.action_server_cpu = statistics.fmean(server[action]) * 1000
        timed.baseline_server_cpu = statistics.fmean(server[baseline]) * 1000
    return timed
