#!/usr/bin/env python3
"""The seed's factorize as a Quack plugin: every divisor of n, by trying each i in 1..=n.

Splittable: `split` cuts one number's range of candidates into parts, `merge` joins the parts'
divisors, so the host spreads one big number over every worker (the seed's 53541233 is 58% of
the work: split per number, two workers could never beat 58% of the sequential time).
"""

import quack

# A part is at most this many trial divisions (about 30 ms in CPython): small enough that two
# workers end within a part of each other, large enough that its messages cost nothing.
PART_SIZE = 1_000_000

# The naive method refuses more trial divisions than this (minutes of work in CPython).
NAIVE_LIMIT = 10_000_000_000

SEED = [53541233, 21235343, 11421443, 5423123]

Task = quack.shape("Task")


def bounds(task):
    """(n, from, to) of a task: a whole number n, or a part {"n", "from", "to"} of one."""
    if isinstance(task, dict):
        unknown = sorted(set(task) - {"n", "from", "to"})
        if unknown:
            raise quack.InvalidInput(
                f'a part has the fields "n", "from" and "to", not "{unknown[0]}"'
            )
        if set(task) == {"n"}:
            return bounds(task["n"])
        if set(task) != {"n", "from", "to"}:
            raise quack.InvalidInput('a part needs "n", "from" and "to" (or only "n")')
        n, low, high = (whole(task[key], f'"{key}"') for key in ("n", "from", "to"))
        if not 1 <= low <= high <= n:
            raise quack.InvalidInput(
                f"the part from {low} to {high} of {n} is not a range of candidate divisors: "
                "it needs 1 <= from <= to <= n"
            )
        return n, low, high
    n = whole(task, "the number")
    if n == 0:
        raise quack.InvalidInput("the number is 0, which every number divides: give 1 or more")
    return n, 1, n


def whole(value, what):
    if isinstance(value, bool):
        raise quack.InvalidInput(f"{what} is {str(value).lower()}, a boolean, not a number")
    if value is None:
        raise quack.InvalidInput(f"{what} is missing (null): give a whole number")
    if isinstance(value, str):
        try:
            value = int(value.strip())
        except ValueError:
            raise quack.InvalidInput(f"{what} is the text {value!r}, which is not a number")
    if isinstance(value, float):
        if value != int(value):
            raise quack.InvalidInput(f"{what} is {value}, which is not a whole number")
        value = int(value)
    if not isinstance(value, int):
        raise quack.InvalidInput(f"{what} is not a number")
    if value < 0:
        raise quack.InvalidInput(f"{what} is {value}, which is negative: give 1 or more")
    if value >= 1 << 64:
        raise quack.InvalidInput(f"{what} is {value}, beyond the largest supported number")
    return value


class Factorize:
    """Lists every divisor of n by trying each i in 1..=n (a CPU workload)"""

    def run(self, task: Task) -> list[quack.u64]:
        n, low, high = bounds(task)
        if high - low >= NAIVE_LIMIT:
            raise ValueError(f"{n} is too large for the naive method (at most {NAIVE_LIMIT})")
        return [i for i in range(low, high + 1) if n % i == 0]

    def split(self, task: Task) -> list[Task]:
        if isinstance(task, dict):
            return [task]
        n, _, _ = bounds(task)
        if n <= PART_SIZE or n > NAIVE_LIMIT:
            return [task]
        count = -(-n // PART_SIZE)
        size = -(-n // count)
        return [
            {"n": n, "from": index * size + 1, "to": min((index + 1) * size, n)}
            for index in range(count)
        ]

    def merge(self, parts: list[list[quack.u64]]) -> list[quack.u64]:
        return sorted({divisor for part in parts for divisor in part})


if __name__ == "__main__":
    quack.serve(
        Factorize,
        name="factorize",
        version="0.1.0",
        hint="cpu",
        default_input=SEED,
        examples=[
            {"method": "run", "input": 12, "returns": [1, 2, 3, 4, 6, 12]},
            {"method": "run", "input": {"n": 53541233, "from": 1, "to": 10000},
             "returns": [1, 5501, 9733]},
            {"method": "run", "input": 0, "fails": "the number is 0"},
            {"method": "run", "input": -5, "fails": "which is negative"},
            {"method": "split", "input": 12, "returns": [12]},
            {"method": "merge", "input": [[1, 2, 4], [4, 8]], "returns": [1, 2, 4, 8]},
        ],
    )
