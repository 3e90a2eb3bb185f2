#!/usr/bin/env python3
"""The seed's Duck as a Quack plugin: an Animal by structure (it has `name` and `sound`)."""

import quack


class Duck:
    """A duck with a name (default Daisy) that says Quack!"""

    def __init__(self, name: str = "Daisy"):
        self._name = name

    def name(self) -> str:
        return self._name

    def sound(self) -> str:
        return "Quack!"


if __name__ == "__main__":
    quack.serve(
        Duck,
        name="duck",
        version="0.1.0",
        examples=[
            {"method": "name", "input": None, "returns": "Daisy"},
            {"method": "name", "input": None, "returns": "Donald", "config": {"name": "Donald"}},
            {"method": "sound", "input": None, "returns": "Quack!"},
        ],
    )
