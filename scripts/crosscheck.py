"""Cross-check the conformance cases (spec/cases) against the real TypeScript AgentKit 0.13.2.

    python scripts/crosscheck.py [--scratch DIR] [-v] [case-id ...]

Installs `@inngest/agent-kit` 0.13.2 from the npm registry into a scratch folder outside the repo
(`$TMPDIR/agentkit-crosscheck`; `npm ci` with the pinned package.json / package-lock.json of
/work/shared/harness/agentkit-ref when present, else `npm install` of the pinned versions), copies
`spec/crosscheck/driver.mjs` there, runs every case with it (the TS library with a scripted
OpenAI-format fake provider in place of `fetch`; nothing leaves the process) and compares what TS did
with what the case expects from agentkit-min. Each case is reported as:

    agree          TS does what the case expects
    documented     TS differs, and every difference is explained by a deviation id of
                   spec/deviations.md (the case's `ts` block, or a normalisation named below)
    UNDOCUMENTED   TS differs in a way no deviation explains (details printed)
    n/a            the case cannot be expressed in TS (reason printed)

Normalisations (applied only when the raw comparison fails, and named in the report): `D-Q3` drops
`stack`/`__serialized` from tool errors, `D-Q4` drops `tool.input` from tool results, `D-Q17` masks
the `<tools>` JSON of routing prompts. Always applied (adapter artefacts, not deviations): the OpenAI
parser's extra `function` key on tool calls is dropped, and requests are compared in a projection of
the OpenAI wire format (role, content / tool calls with parsed arguments / tool results with parsed
content), since TS only shows its requests as OpenAI bodies.

Exit status: 0 when nothing is undocumented, 1 otherwise, 0 with a message when node is absent.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parent.parent
CASES = ROOT / "spec" / "cases"
DRIVER = ROOT / "spec" / "crosscheck" / "driver.mjs"
HARNESS = ROOT.parent / "shared" / "harness" / "agentkit-ref"  # ../shared beside the clone
PINNED = {"@inngest/agent-kit": "0.13.2", "inngest": "3.54.2", "zod": "4.6.7"}
# One matcher for the case format (spec/README.md), shared with the Python runner.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.test_conformance import matches  # noqa: E402
Json = Any


# ---------------------------------------------------------------- install and run TS

def install(scratch: Path) -> None:
    """`npm ci` (or `npm install` of the pinned versions) into `scratch`, once."""
    if (scratch / "node_modules" / "@inngest" / "agent-kit" / "package.json").exists():
        return
    scratch.mkdir(parents=True, exist_ok=True)
    lock = HARNESS / "package-lock.json"
    if lock.exists():
        shutil.copy(HARNESS / "package.json", scratch / "package.json")
        shutil.copy(lock, scratch / "package-lock.json")
        cmd = ["npm", "ci", "--no-audit", "--no-fund"]
    else:
        (scratch / "package.json").write_text(json.dumps(
            {"name": "agentkit-crosscheck", "private": True, "type": "module", "dependencies": PINNED}))
        cmd = ["npm", "install", "--no-audit", "--no-fund"]
    print(f"installing @inngest/agent-kit {PINNED['@inngest/agent-kit']} into {scratch} ...", file=sys.stderr)
    subprocess.run(cmd, cwd=scratch, check=True, stdout=subprocess.DEVNULL, timeout=600)


def run_ts(scratch: Path, cases: list[dict[str, Json]]) -> dict[str, Json]:
    shutil.copy(DRIVER, scratch / "driver.mjs")
    (scratch / "cases.json").write_text(json.dumps(cases))
    subprocess.run(["node", "driver.mjs", "cases.json", "observed.json"], cwd=scratch, check=True,
                   timeout=300, stdout=subprocess.DEVNULL)
    observed: dict[str, Json] = json.loads((scratch / "observed.json").read_text())
    return observed


# ---------------------------------------------------------------- projections and normalisers

def wire_from_expected(msg: Json) -> Json:
    """An AgentKit message as the OpenAI adapter would send it (the comparison projection)."""
    if not isinstance(msg, dict):
        return msg
    if msg.get("type") == "tool_call":
        return {"role": "assistant", "tool_calls": [{"id": t["id"], "name": t["name"], "input": t.get("input", {})}
                                                    for t in msg["tools"]]}
    if msg.get("type") == "tool_result":
        return {"role": "tool", "tool_call_id": msg["tool"]["id"], "content": msg["content"]}
    content = msg.get("content")
    if isinstance(content, list):
        content = "".join(part.get("text", "") for part in content)
    return {"role": msg.get("role"), "content": content}


def wire_from_openai(msg: dict[str, Json]) -> Json:
    def parse(text: Json) -> Json:
        try:
            return json.loads(text)
        except (TypeError, ValueError):
            return text
    if msg.get("tool_calls"):
        return {"role": "assistant", "tool_calls": [
            {"id": c["id"], "name": c["function"]["name"], "input": parse(c["function"]["arguments"])}
            for c in msg["tool_calls"]]}
    if msg.get("role") == "tool":
        return {"role": "tool", "tool_call_id": msg["tool_call_id"], "content": parse(msg["content"])}
    return {"role": msg.get("role"), "content": msg.get("content")}


def request_from_openai(req: dict[str, Json]) -> dict[str, Json]:
    body = req["body"]
    tools = [t["function"]["name"] for t in body.get("tools") or []]
    choice = body.get("tool_choice")
    if choice == "required":
        choice = "any"
    elif isinstance(choice, dict):
        choice = choice.get("function", {}).get("name")
    return {"model": req["model"], "messages": [wire_from_openai(m) for m in body.get("messages", [])],
            "tools": tools, "tool_choice": choice if tools else "<no tools>"}


def request_from_expected(req: dict[str, Json]) -> dict[str, Json]:
    out = dict(req)
    if "messages" in out:
        out["messages"] = [wire_from_expected(m) for m in out["messages"]]
    if "tool_choice" in out and not req.get("tools", ["?"]):
        out["tool_choice"] = "<no tools>"  # TS sends no tool_choice without tools
    return out


def walk(node: Json, fn: Callable[[Json], Json]) -> Json:
    node = fn(node)
    if isinstance(node, dict):
        return {k: walk(v, fn) for k, v in node.items()}
    if isinstance(node, list):
        return [walk(v, fn) for v in node]
    return node


def drop_function_key(node: Json) -> Json:
    if isinstance(node, dict) and node.get("type") == "tool" and "function" in node:
        return {k: v for k, v in node.items() if k != "function"}
    return node


def n_q3(node: Json) -> Json:
    if isinstance(node, dict) and isinstance(node.get("error"), dict) and len(node) == 1:
        return {"error": {k: v for k, v in node["error"].items() if k not in ("stack", "__serialized")}}
    return node


def n_q4(node: Json) -> Json:
    if isinstance(node, dict) and node.get("type") == "tool_result" and isinstance(node.get("tool"), dict):
        return {**node, "tool": {k: v for k, v in node["tool"].items() if k != "input"}}
    return node


def n_q17(node: Json) -> Json:
    if isinstance(node, str) and "<tools>" in node:
        return re.sub(r"<tools>.*?</tools>", "<tools>…</tools>", node, flags=re.S)
    return node


NORMALISERS: list[tuple[str, Callable[[Json], Json]]] = [("D-Q3", n_q3), ("D-Q4", n_q4), ("D-Q17", n_q17)]


# ---------------------------------------------------------------- matching (spec/README.md)

RECORDS = ("requests", "router_calls", "tool_invocations", "results", "history_calls")


def key_matches(key: str, expected: Json, actual: Json) -> bool:
    if key in RECORDS or key == "returned_result":
        exp_list = [expected] if key == "returned_result" else expected
        act_list = [actual] if key == "returned_result" else actual
        if not isinstance(act_list, list) or len(exp_list) != len(act_list):
            return False
        return all(k in a and matches(v, a[k]) for e, a in zip(exp_list, act_list) for k, v in e.items())
    return matches(expected, actual)


def event_label(chunk: dict[str, Json]) -> str:
    event, data = str(chunk["event"]), chunk.get("data") or {}
    if event.startswith(("run.", "stream.")) and "scope" in data:
        return f"{event}:{data['scope']}"
    if event.startswith("part.") and "type" in data:
        return f"{event}:{data['type']}"
    return event


def observed_value(key: str, obs: dict[str, Json]) -> Json:
    if key == "requests":
        return [request_from_openai(r) for r in obs["requests"]]
    if key == "request_count":
        return len(obs["requests"])
    if key == "events":
        return [event_label(c) for c in obs["events"]]
    if key == "error":
        return obs["error"]
    return obs.get(key)


def expected_value(key: str, value: Json) -> Json:
    if key == "requests":
        return [request_from_expected(r) for r in value]
    if key == "error":  # TS throws plain Errors: only the message is comparable
        return None if value is None else {"message": value["message"]}
    return value


def compare_key(key: str, expected: Json, obs: dict[str, Json]) -> tuple[bool, list[str]]:
    """Does TS's observation match `expected` for `key`? Also: the normalisers that were needed."""
    actual = observed_value(key, obs)
    if key == "error" and actual is not None:
        actual = {"message": actual["message"]}
    exp = walk(expected_value(key, expected), drop_function_key)
    actual = walk(actual, drop_function_key)
    if key_matches(key, exp, actual):
        return True, []
    used = []
    for dev, fn in NORMALISERS:
        new_exp, new_act = walk(exp, fn), walk(actual, fn)
        if (new_exp, new_act) != (exp, actual):
            used.append(dev)
            exp, actual = new_exp, new_act
    return key_matches(key, exp, actual), used


def implicit(expected: dict[str, Json]) -> dict[str, Json]:
    """What every case checks without saying so: no error unless expected, script fully used."""
    out = dict(expected)
    out.setdefault("error", None)
    return out


def script_ok(expected: dict[str, Json], obs: dict[str, Json]) -> bool:
    return bool(not expected.get("script_used", True) or obs.get("error") or obs.get("script_unused", 0) == 0)


# ---------------------------------------------------------------- classification

def classify(case: dict[str, Json], obs: dict[str, Json]) -> tuple[str, list[str], list[str]]:
    """(status, deviation ids, problems) for one case."""
    ts = case.get("ts", {})
    if "not_applicable" in ts:
        return "n/a", [], [ts["not_applicable"]]
    if "driver_error" in obs:
        return "UNDOCUMENTED", [], [f"the TS driver failed: {obs['driver_error']}"]
    if case.get("mode") == "state":
        return classify_ops(case, obs)
    ours = implicit(case["expected"])
    theirs = {**ours, **ts.get("expected", {})}
    ids: list[str] = []
    problems: list[str] = []
    for key in sorted(set(ours) | set(theirs)):
        if key in ("script_used", "replay", "step_ids"):
            continue
        if key in ours:
            ok, used = compare_key(key, ours[key], obs)
            if ok:
                ids += used
                continue
        if key in ts.get("expected", {}):
            ok, used = compare_key(key, theirs[key], obs)
            if ok:
                ids += ts.get("deviations", []) + used
                continue
        problems.append(f"{key}: expected {json.dumps(ours.get(key))[:600]}\n        TS gave  "
                        f"{json.dumps(observed_value(key, obs))[:600]}")
    ts_script_ok = script_ok(theirs, obs)
    if not script_ok(ours, obs):
        if ts_script_ok and "script_used" in ts.get("expected", {}):
            ids += ts.get("deviations", [])
        else:
            problems.append(f"script: {obs.get('script_unused')} scripted replies unused")
    if problems:
        return "UNDOCUMENTED", sorted(set(ids)), problems
    return ("documented" if ids else "agree"), sorted(set(ids)), []


def classify_ops(case: dict[str, Json], obs: dict[str, Json]) -> tuple[str, list[str], list[str]]:
    ts = case.get("ts", {})
    ids: list[str] = []
    problems: list[str] = []
    for i, op in enumerate(case["ops"]):
        actual = obs["ops"][i]
        if op["op"] == "checksum_stable":
            ok = (isinstance(actual, dict) and actual["first"] == actual["second"]
                  and re.fullmatch(r"[0-9]+", str(actual["first"])) is not None)
            if not ok:
                problems.append(f"ops[{i}] checksum_stable: {actual}")
            continue
        if "expect" not in op:
            continue
        if matches(op["expect"], actual):
            continue
        override = ts.get("ops_expect", {}).get(str(i), op["expect"])
        if str(i) in ts.get("ops_expect", {}) and matches(override, actual):
            ids += ts.get("deviations", [])
            continue
        problems.append(f"ops[{i}] {op['op']}: expected {json.dumps(op['expect'])}, TS gave {json.dumps(actual)}")
    if problems:
        return "UNDOCUMENTED", sorted(set(ids)), problems
    return ("documented" if ids else "agree"), sorted(set(ids)), []


def documented_ids() -> set[str]:
    text = (ROOT / "spec" / "deviations.md").read_text(encoding="utf-8")
    return set(re.findall(r"^### `(D-[A-Z0-9-]+)`", text, flags=re.M))


# ---------------------------------------------------------------- main

def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("ids", nargs="*", help="case ids to run (default: all)")
    parser.add_argument("--scratch", type=Path,
                        default=Path(os.environ.get("TMPDIR", tempfile.gettempdir())) / "agentkit-crosscheck")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every case, not only differences")
    args = parser.parse_args(argv)
    if shutil.which("node") is None or shutil.which("npm") is None:
        print("crosscheck skipped: node and npm are needed to run TypeScript AgentKit (install Node 20+).")
        return 0
    if args.scratch.resolve().is_relative_to(ROOT):
        print(f"crosscheck: the scratch folder must be outside the repository, not {args.scratch}")
        return 2
    cases = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(CASES.glob("*.json"))]
    if args.ids:
        cases = [c for c in cases if c["id"] in set(args.ids)]
    install(args.scratch)
    runnable = [copy.deepcopy(c) for c in cases if "not_applicable" not in c.get("ts", {})]
    observed = run_ts(args.scratch, runnable)
    known = documented_ids()
    counts = {"agree": 0, "documented": 0, "UNDOCUMENTED": 0, "n/a": 0}
    for case in cases:
        status, ids, problems = classify(case, observed.get(case["id"], {}))
        unknown = [i for i in ids if i not in known]
        if unknown:
            status, problems = "UNDOCUMENTED", problems + [f"deviation ids not in spec/deviations.md: {unknown}"]
        counts[status] += 1
        if status in ("agree",) and not args.verbose:
            continue
        detail = f" ({', '.join(ids)})" if ids else ""
        print(f"{status:12} {case['id']}{detail}")
        for problem in problems:
            print(f"    {problem}")
    total = sum(counts.values())
    print(f"\n{total} cases against @inngest/agent-kit {PINNED['@inngest/agent-kit']}: {counts['agree']} agree, "
          f"{counts['documented']} documented differences, {counts['UNDOCUMENTED']} undocumented, "
          f"{counts['n/a']} not applicable")
    return 1 if counts["UNDOCUMENTED"] else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
