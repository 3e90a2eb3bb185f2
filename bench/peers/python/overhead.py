"""Python peer: the cost per task of a trivial task (identity) on 2 workers.

ThreadPoolExecutor(2) with submit and with map, ProcessPoolExecutor(2) with map(chunksize=1) and
with submit. Each pool is made once and warmed up with a short run; then the wall time of N tasks
over N is one figure, in microseconds. Prints one JSON object:
{"peer": ..., "python": "3.11.7", "unit": "microseconds", "figures": {name: [per repetition]}}.

Usage: python3 overhead.py [--thread-tasks N] [--process-tasks N] [--repeat R]
"""

import argparse
import json
import platform
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

WORKERS = 2
WARM_UP_TASKS = 200


def identity(x):
    return x


def with_submit(pool, count):
    started = time.perf_counter()
    futures = [pool.submit(identity, i) for i in range(count)]
    results = [future.result() for future in futures]
    wall = time.perf_counter() - started
    if results != list(range(count)):
        raise SystemExit("submit: wrong results")
    return wall / count * 1e6


def with_map(pool, count):
    started = time.perf_counter()
    results = list(pool.map(identity, range(count), chunksize=1))
    wall = time.perf_counter() - started
    if results != list(range(count)):
        raise SystemExit("map: wrong results")
    return wall / count * 1e6


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--thread-tasks", type=int, default=20000)
    parser.add_argument("--process-tasks", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = {
        "thread_pool_submit": [],
        "thread_pool_map": [],
        "process_pool_map": [],
        "process_pool_submit": [],
    }
    with ThreadPoolExecutor(WORKERS) as pool:
        with_submit(pool, WARM_UP_TASKS)
        with_map(pool, WARM_UP_TASKS)
        for _ in range(args.repeat):
            figures["thread_pool_submit"].append(with_submit(pool, args.thread_tasks))
            figures["thread_pool_map"].append(with_map(pool, args.thread_tasks))
    with ProcessPoolExecutor(WORKERS) as pool:
        with_map(pool, WARM_UP_TASKS)
        with_submit(pool, WARM_UP_TASKS)
        for _ in range(args.repeat):
            figures["process_pool_map"].append(with_map(pool, args.process_tasks))
            figures["process_pool_submit"].append(with_submit(pool, args.process_tasks))
    print(
        json.dumps(
            {
                "peer": "python overhead",
                "python": platform.python_version(),
                "unit": "microseconds",
                "tasks": {"thread": args.thread_tasks, "process": args.process_tasks},
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
