"""Python peer: the seed's four numbers by the naive method (every i in 1..=n tried).

Sequentially, on ProcessPoolExecutor(max_workers=2) (pool creation included) and, with
--thread-pool, on ThreadPoolExecutor(max_workers=2). Every result is checked. Prints one JSON
object: {"peer": ..., "python": "3.11.7", "unit": "seconds", "figures": {name: [per repetition]}}.

With --only NAME it runs that one way only (e.g. `--only process_pool_2 --repeat 1`), so that
the whole process, interpreter start included, can be timed from outside as `host run` is.

Usage: python3 factorize.py [--repeat R] [--thread-pool] [--only NAME]
"""

import argparse
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

NUMBERS = [53541233, 21235343, 11421443, 5423123]
EXPECTED = [
    [1, 5501, 9733, 53541233],
    [1, 21235343],
    [1, 11, 383, 2711, 4213, 29821, 1038313, 11421443],
    [1, 5423123],
]


def factorize_naive(n):
    return [i for i in range(1, n + 1) if n % i == 0]


def timed(run):
    started = time.perf_counter()
    results = run()
    wall = time.perf_counter() - started
    if results != EXPECTED:
        raise SystemExit(f"wrong results: {results}")
    return wall


def sequential():
    return [factorize_naive(n) for n in NUMBERS]


def process_pool():
    with ProcessPoolExecutor(max_workers=2) as pool:
        return list(pool.map(factorize_naive, NUMBERS))


def thread_pool():
    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(pool.map(factorize_naive, NUMBERS))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--thread-pool", action="store_true")
    parser.add_argument("--only", choices=["sequential", "process_pool_2", "thread_pool_2"])
    args = parser.parse_args()
    runs = {"sequential": sequential, "process_pool_2": process_pool}
    if args.thread_pool:
        runs["thread_pool_2"] = thread_pool
    if args.only:
        runs = {args.only: {**runs, "thread_pool_2": thread_pool}[args.only]}
    figures = {name: [] for name in runs}
    for _ in range(args.repeat):
        for name, run in runs.items():
            figures[name].append(timed(run))
    print(
        json.dumps(
            {
                "peer": "python factorize",
                "python": platform.python_version(),
                "unit": "seconds",
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
