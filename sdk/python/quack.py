"""quack: write a Quack plugin in Python (standard library only, one file).

A class with methods is a plugin. Its public methods (names not starting with `_`) are the
plugin's methods; their type hints give the signatures the host matches interfaces on, in the
same shape names as the Rust SDK (`string`, `i64`, `u64`, `f64`, `bool`, `null`, `[T]`, `T?`,
`{string: T}`, `(A, B)`, `any`, or a name of your own). A class with `name()` and `sound()`
returning `str` is an Animal; one with `run(task)` is a Workload; add `split(task) -> list[task]`
and `merge(list[result]) -> result` and it is Splittable. Nothing is declared: the host looks.

    #!/usr/bin/env python3
    import quack

    class Dog:
        \"\"\"A dog with a name (default Rex) that says Woof!\"\"\"

        def __init__(self, name: str = "Rex"):     # the configuration: --set name=Fido
            self._name = name

        def name(self) -> str:
            return self._name

        def sound(self) -> str:
            return "Woof!"

    if __name__ == "__main__":
        quack.serve(Dog, name="dog", version="0.1.0")

`host run dog.py` starts the file (it begins with `#!`), speaks the program protocol with it on
file descriptors 3 and 4 (docs/program-plugins.md), and runs it like any plugin. What the plugin
prints (print, stdout, stderr) reaches the host's stderr as lines of its own and never mixes
with the protocol.

The configuration object becomes keyword arguments of the class. A method that raises
`InvalidInput` fails its task as bad input; any other exception fails it with its message.
Python's `int` is the shape `i64`, `float` is `f64`; `quack.u64` (and the other names below) are
`int`s that show as the Rust names, and `quack.shape("Task")` names a type of your own.
"""

import inspect
import json
import os
import sys
import types
import typing

# The program protocol this module speaks, (major, minor). A host accepts any minor of its
# major; this module accepts any host of the same major.
PROTOCOL = (1, 0)

# The descriptors of the protocol: the host writes requests on 3, the program answers on 4.
REQUESTS_FD = 3
ANSWERS_FD = 4

u8 = typing.NewType("u8", int)
u16 = typing.NewType("u16", int)
u32 = typing.NewType("u32", int)
u64 = typing.NewType("u64", int)
i8 = typing.NewType("i8", int)
i16 = typing.NewType("i16", int)
i32 = typing.NewType("i32", int)
i64 = typing.NewType("i64", int)
f32 = typing.NewType("f32", float)
f64 = typing.NewType("f64", float)

_UNSIGNED = {"u8": 8, "u16": 16, "u32": 32, "u64": 64}
_SIGNED = {"i8": 8, "i16": 16, "i32": 32, "i64": 64}


def shape(name, base=object):
    """A type named `name` in signatures: `Task = quack.shape("Task")`, then `def run(self, task:
    Task)`. Values are not checked; `base` (default `object`) is for type checkers."""
    return typing.NewType(name, base)


class InvalidInput(Exception):
    """Raised by a method whose input cannot be its argument: the task fails as bad input."""


class PluginDefinitionError(Exception):
    """The class cannot be a plugin (a method with two arguments, a hint with no shape)."""


def shape_of(hint):
    """The shape name of a type hint, as the Rust SDK names the same type."""
    if hint is inspect.Parameter.empty or hint is typing.Any or hint is object:
        return "any"
    if hint is None or hint is type(None):
        return "null"
    supertype = getattr(hint, "__supertype__", None)
    if supertype is not None:  # a NewType: u64, shape("Task")
        return hint.__name__
    if hint is str:
        return "string"
    if hint is bool:
        return "bool"
    if hint is int:
        return "i64"
    if hint is float:
        return "f64"
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (list, set, frozenset):
        return f"[{shape_of(args[0]) if args else 'any'}]"
    if origin is tuple:
        if len(args) == 2 and args[1] is Ellipsis:
            return f"[{shape_of(args[0])}]"
        return "(" + ", ".join(shape_of(arg) for arg in args) + ")"
    if origin is dict:
        value = shape_of(args[1]) if len(args) == 2 else "any"
        return "{string: " + value + "}"
    if origin is typing.Union or origin is getattr(types, "UnionType", typing.Union):
        others = [arg for arg in args if arg is not type(None)]
        if len(others) == 1 and len(others) < len(args):
            return f"{shape_of(others[0])}?"
        return "any"
    if hint in (list, tuple, set, frozenset):
        return "[any]"
    if hint is dict:
        return "{string: any}"
    if isinstance(hint, type):
        return hint.__name__
    if isinstance(hint, str):
        return hint
    raise PluginDefinitionError(f"the type hint {hint!r} has no shape; use a plain type")


class _Method:
    """One method of the plugin class: its function, whether it takes a task, its signature."""

    def __init__(self, cls, name, function):
        self.name = name
        signature = inspect.signature(function)
        params = list(signature.parameters.values())[1:]  # after self
        for param in params:
            if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
                raise PluginDefinitionError(
                    f"{cls.__name__}.{name} takes *args or **kwargs; a method takes at most one "
                    "argument, its task"
                )
        required = [param for param in params if param.default is param.empty]
        if len(params) > 1:
            raise PluginDefinitionError(
                f"{cls.__name__}.{name} takes {len(params)} arguments; a method takes at most one, "
                "its task (give a dict or a list for more)"
            )
        try:
            hints = typing.get_type_hints(function)
        except Exception:  # a hint that names something missing: fall back to the raw ones
            hints = getattr(function, "__annotations__", {})
        self.takes_input = len(params) == 1
        self.input_optional = self.takes_input and not required
        self.param_hint = hints.get(params[0].name, inspect.Parameter.empty) if params else None
        self.params = [shape_of(self.param_hint)] if self.takes_input else []
        self.result = shape_of(hints.get("return", inspect.Parameter.empty))

    def signature(self):
        return {"name": self.name, "params": self.params, "result": self.result}

    def call(self, instance, value):
        bound = getattr(instance, self.name)
        if not self.takes_input:
            return bound()
        if value is None and self.input_optional:
            return bound()
        _check_input(self.params[0], self.param_hint, value)
        return bound(value)


def _check_input(shape_name, hint, value):
    """Refuses, as bad input, a value that cannot be an argument of a plain numeric, text or
    boolean shape; other shapes are the method's to check."""
    kind = type(value).__name__ if value is not None else "null"
    if kind == "dict":
        kind = "an object"
    elif kind == "list":
        kind = "a list"
    elif kind == "str":
        kind = f"the text {json.dumps(value)}"
    elif kind != "null":
        kind = json.dumps(value)

    def refuse(expected):
        raise InvalidInput(f"expected {expected}, found {kind}")

    if shape_name in _UNSIGNED or shape_name in _SIGNED:
        if not isinstance(value, int) or isinstance(value, bool):
            refuse(f"a whole number ({shape_name})")
        bits = _UNSIGNED.get(shape_name) or _SIGNED[shape_name]
        low, high = (0, (1 << bits) - 1) if shape_name in _UNSIGNED else (
            -(1 << (bits - 1)), (1 << (bits - 1)) - 1)
        if not low <= value <= high:
            refuse(f"a whole number from {low} to {high} ({shape_name})")
    elif shape_name in ("f32", "f64"):
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            refuse(f"a number ({shape_name})")
    elif shape_name == "string" and not isinstance(value, str):
        refuse("a string")
    elif shape_name == "bool" and not isinstance(value, bool):
        refuse("a boolean")


def _methods_of(cls):
    """The public methods of `cls` and its bases, in the order they are defined."""
    found = {}
    for klass in reversed(cls.__mro__):
        if klass is object:
            continue
        for name, function in vars(klass).items():
            if not name.startswith("_") and inspect.isfunction(function):
                found[name] = function
    return [_Method(cls, name, function) for name, function in found.items()]


def _summary(cls):
    doc = inspect.getdoc(cls) or ""
    paragraph = doc.strip().split("\n\n")[0]
    return " ".join(paragraph.split())


class _Plugin:
    """What `serve` tells the host: the description and the methods, and how to make instances."""

    def __init__(self, cls, name, version, summary, hint, isolate, default_input, examples):
        if hint not in (None, "cpu", "io"):
            raise PluginDefinitionError(f'hint is {hint!r}; give "cpu", "io" or None')
        self.cls = cls
        self.methods = {method.name: method for method in _methods_of(cls)}
        self.description = {
            "name": name or cls.__name__.lower(),
            "version": version,
            "summary": _summary(cls) if summary is None else summary,
            "isolate": bool(isolate),
            "default_input": list(default_input or []),
            "examples": [_example(example) for example in (examples or [])],
        }
        if hint is not None:
            self.description["hint"] = hint
        json.dumps(self.description, allow_nan=False)  # refused now, not at the host

    def new(self, config):
        if not isinstance(config, dict):
            raise InvalidInput("the configuration is not a JSON object")
        try:
            inspect.signature(self.cls).bind(**config)
        except TypeError as error:
            takes = [
                param.name
                for param in inspect.signature(self.cls).parameters.values()
                if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY)
            ]
            keys = ", ".join(takes) if takes else "no keys"
            raise InvalidInput(f"{error} (the configuration takes {keys})") from None
        return self.cls(**config)


def _example(example):
    """An example as the host reads it: {"method", "input", "expected": {"Ok": v} or {"Err": s}}
    (and "config"), from a dict with "method", "input" and either "returns" or "fails"."""
    if not isinstance(example, dict) or "method" not in example:
        raise PluginDefinitionError(f"the example {example!r} is not a dict with a \"method\"")
    out = {"method": example["method"], "input": example.get("input")}
    if "config" in example:
        out["config"] = example["config"]
    if "fails" in example:
        out["expected"] = {"Err": str(example["fails"])}
    else:
        out["expected"] = {"Ok": example.get("returns")}
    return out


def _error(kind, message, call_id=None):
    answer = {"op": "error", "kind": kind, "message": message}
    if call_id is not None:
        answer["id"] = call_id
    return answer


def _describe_exception(error):
    text = str(error)
    return text if text else type(error).__name__


class _Server:
    """The protocol loop: requests in on fd 3, answers out on fd 4, one JSON object a line."""

    def __init__(self, plugin):
        self.plugin = plugin
        self.instance = None

    def answer(self, request):
        op = request.get("op")
        if op == "call":
            return self.call(request)
        if op == "hello":
            # The host compares the versions and says what it thinks of a mismatch.
            return {"op": "hello", "protocol": list(PROTOCOL)}
        if op == "describe":
            return {"op": "description", "description": self.plugin.description}
        if op == "methods":
            methods = [method.signature() for method in self.plugin.methods.values()]
            return {"op": "methods", "methods": methods}
        if op == "new":
            try:
                self.instance = self.plugin.new(request.get("config") or {})
            except InvalidInput as error:
                return _error("invalid_input", _describe_exception(error))
            except Exception as error:
                return _error("failed", _describe_exception(error))
            return {"op": "ready"}
        if op == "shutdown":
            raise SystemExit(0)
        return _error("failed", f"unknown request {op!r}")

    def call(self, request):
        call_id = request.get("id")
        name = request.get("method")
        method = self.plugin.methods.get(name)
        if method is None:
            return _error("unknown_method", f"the plugin has no method {name!r}", call_id)
        if self.instance is None:
            return _error("failed", "no instance: the host sent a call before new", call_id)
        try:
            result = method.call(self.instance, request.get("input"))
        except InvalidInput as error:
            return _error("invalid_input", _describe_exception(error), call_id)
        except Exception as error:
            return _error("failed", _describe_exception(error), call_id)
        return {"op": "result", "id": call_id, "ok": result}

    def serve(self):
        pending = b""
        while True:
            chunk = os.read(REQUESTS_FD, 1 << 16)
            if not chunk:
                return
            pending += chunk
            *lines, pending = pending.split(b"\n")
            for line in lines:
                if not line.strip():
                    continue
                try:
                    request = json.loads(line)
                except ValueError as error:
                    answer = _error("failed", f"the host sent a line that is not JSON: {error}")
                else:
                    answer = self.answer(request)
                # Each answer goes out before the next request runs: a program that dies
                # never takes a finished answer with it.
                _write_all(ANSWERS_FD, _encode(answer))


def _encode(answer):
    try:
        return json.dumps(answer, allow_nan=False, separators=(",", ":")).encode() + b"\n"
    except (TypeError, ValueError) as error:
        message = f"the result cannot be written as JSON: {error}"
        return json.dumps(_error("failed", message, answer.get("id"))).encode() + b"\n"


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def serve(cls, name=None, version="0.1.0", summary=None, hint=None, isolate=False,
          default_input=None, examples=None):
    """Serves `cls` as a Quack plugin until the host closes the protocol. Call it from
    `if __name__ == "__main__":`.

    name: the plugin's name (default: the class name in lowercase); version: its version;
    summary: one line (default: the class docstring's first paragraph); hint: "cpu" or "io", for
    the host's choice of workers; isolate: ask for worker processes (program plugins always
    get them in auto mode); default_input: the tasks run when the user gives none; examples:
    dicts {"method", "input", "returns"} or {"method", "input", "fails": "part of the error"}
    (and "config"), shown by `host inspect`.
    """
    if os.environ.get("QUACK_PROTOCOL") is None:
        script = os.path.basename(sys.argv[0]) if sys.argv else "this program"
        sys.stderr.write(
            f"{script} is a Quack plugin: the host starts it and speaks to it on file "
            f"descriptors 3 and 4; run it with `host run {script}` (or `host inspect {script}`)\n"
        )
        raise SystemExit(2)
    try:
        plugin = _Plugin(cls, name, version, summary, hint, isolate, default_input, examples)
    except PluginDefinitionError as error:
        sys.stderr.write(f"quack: {error}\n")
        raise SystemExit(3)
    # What the plugin prints reaches the host as lines: flush each one.
    try:
        sys.stdout.reconfigure(line_buffering=True)
    except (AttributeError, ValueError):
        pass
    try:
        _Server(plugin).serve()
    except BrokenPipeError:
        pass
    except KeyboardInterrupt:
        pass
