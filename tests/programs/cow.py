#!/usr/bin/env python3
import json, os

ANSWERS = {
    "hello": {"op": "hello", "protocol": [1, 0]},
    "describe": {"op": "description", "description": {"name": "cow", "version": "1.0.0"}},
    "methods": {"op": "methods", "methods": [
        {"name": "name", "params": [], "result": "string"},
        {"name": "sound", "params": [], "result": "string"}]},
    "new": {"op": "ready"},
}
SAYS = {"name": "Daisy", "sound": "Moo!"}

requests = os.fdopen(3, "rb")
for line in requests:
    request = json.loads(line)
    if request["op"] == "shutdown":
        break
    answer = ANSWERS.get(request["op"]) or {
        "op": "result", "id": request.get("id"), "ok": SAYS.get(request.get("method"))}
    os.write(4, json.dumps(answer).encode() + b"\n")
