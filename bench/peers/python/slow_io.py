"""Python peer: slow system calls, each blocking 0.1 s in the kernel.

The call is select.select on an unbound UDP socket with a timeout of 0.1 s: the socket never
becomes readable, so the call sleeps in the kernel for the whole timeout. (A fresh TCP socket
would not do: Linux reports it readable at once.) One socket is shared by every call, so a
thousand threads need one file descriptor. Ten calls one after another, ten on ten threads and a
thousand on a thousand threads. Prints one JSON object: {"peer": ..., "python": "3.11.7",
"unit": "seconds", "figures": {name: [per repetition]}}.

Usage: python3 slow_io.py [--repeat R]
"""

import argparse
import json
import platform
import select
import socket
import threading
import time

WAIT = 0.1
SOCKET = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)


def slow_call():
    readable, _, _ = select.select([SOCKET], [], [], WAIT)
    if readable:
        raise SystemExit("the unbound UDP socket read as ready: the call did not block")


def sequential(count):
    started = time.perf_counter()
    for _ in range(count):
        slow_call()
    return time.perf_counter() - started


def on_threads(count):
    started = time.perf_counter()
    threads = [threading.Thread(target=slow_call) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    figures = {"ten_sequential": [], "ten_threads": [], "thousand_threads": []}
    for _ in range(args.repeat):
        figures["ten_sequential"].append(sequential(10))
        figures["ten_threads"].append(on_threads(10))
        figures["thousand_threads"].append(on_threads(1000))
    if min(figures["ten_sequential"]) < 10 * WAIT * 0.9:
        raise SystemExit("ten calls took less than 0.9 s: the call did not block")
    print(
        json.dumps(
            {
                "peer": "python slow_io",
                "python": platform.python_version(),
                "unit": "seconds",
                "figures": figures,
            }
        )
    )


if __name__ == "__main__":
    main()
