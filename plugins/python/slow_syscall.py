#!/usr/bin/env python3
"""The seed's slow_syscall as a Quack plugin: each task blocks in select() for its seconds.

An I/O-bound Workload: the host gives it one worker process per task (up to 32), so ten waits of
0.1 s take about 0.1 s plus the workers' start.
"""

import select
import time

import quack

MAX_SECONDS = 3600.0


class SlowSyscall:
    """Each task blocks in the kernel (select) for the given seconds (an I/O-bound workload)"""

    def run(self, seconds: quack.f64) -> quack.f64:
        if seconds != seconds or seconds in (float("inf"), float("-inf")):
            raise quack.InvalidInput(f"{seconds} is not a finite number of seconds")
        if seconds < 0:
            raise quack.InvalidInput(f"{seconds} seconds is negative: give 0 or more")
        if seconds > MAX_SECONDS:
            raise quack.InvalidInput(
                f"{seconds} seconds is longer than the limit of {MAX_SECONDS:g} (one hour)"
            )
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return seconds
            # No descriptors: select waits in the kernel for the whole time (a fresh TCP socket
            # would read as ready at once on Linux and measure nothing).
            select.select([], [], [], left)


if __name__ == "__main__":
    quack.serve(
        SlowSyscall,
        name="slow-syscall",
        version="0.1.0",
        hint="io",
        default_input=[0.1] * 10,
        examples=[
            {"method": "run", "input": 0.001, "returns": 0.001},
            {"method": "run", "input": -1, "fails": "-1 seconds is negative"},
            {"method": "run", "input": "abc", "fails": "expected a number"},
        ],
    )
