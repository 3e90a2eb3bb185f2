#!/usr/bin/env python3
"""The seed's Dog as a Quack plugin: an Animal by structure (it has `name` and `sound`)."""

import quack


class Dog:
    """A dog with a name (default Rex) that says Woof!"""

    def __init__(self, name: str = "Rex"):
        self._name = name

    def name(self) -> str:
        return self._name

    def sound(self) -> str:
        return "Woof!"


if __name__ == "__main__":
    quack.serve(
        Dog,
        name="dog",
        version="0.1.0",
        examples=[
            {"method": "name", "input": None, "returns": "Rex"},
            {"method": "name", "input": None, "returns": "Fido", "config": {"name": "Fido"}},
            {"method": "sound", "input": None, "returns": "Woof!"},
        ],
    )
