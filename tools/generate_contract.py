"""Generate cbslocal's request contract from the API description the official CLI ships.

    .venv/bin/python tools/generate_contract.py          # rewrite src/cbslocal/api/contract/*.json
    .venv/bin/python tools/generate_contract.py --check  # exit 1 if they are not current

For each service (CBS, CVM) of tccli's `api.json` (pinned: tccli==PINNED_TCCLI, pyproject.toml's
test extra), it keeps what the request side needs: every action and its request object, every
object a request reaches (member names, types, required, nested objects), and the enums a
member's description gives in full (every <li> item an identifier followed by a colon). The
output is compact JSON (sorted keys), read by cbslocal.api.contract, which builds the pydantic
models on demand. tests/unit/test_contract.py compares the files with what this would write.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from importlib import metadata, resources
from pathlib import Path

PINNED_TCCLI = "3.1.189.1"
SERVICES = {"cbs": "v20170312", "cvm": "v20170312"}
OUT = Path(__file__).resolve().parents[1] / "src" / "cbslocal" / "api" / "contract"

SCALARS = {("string", "string"): "string", ("string", "datetime"): "string",
           ("string", "datetime_iso"): "string", ("int", "uint64"): "uint64",
           ("int", "int64"): "int64", ("bool", "bool"): "bool", ("float", "float"): "float"}
_ITEM = re.compile(r"<li>\s*([A-Za-z][A-Za-z0-9_.-]*)\s*[：:]")


def description(service: str) -> dict:
    version = SERVICES[service]
    path = resources.files("tccli").joinpath("services", service, version, "api.json")
    return json.loads(path.read_text("utf-8"))


def enum_of(document: str) -> list[str] | None:
    """The values a description lists in full: two or more <li> items, each `VALUE：…`."""
    items = _ITEM.findall(document)
    if len(items) >= 2 and len(items) == document.count("<li>"):
        return sorted(set(items))
    return None


def member_spec(member: dict) -> dict:
    kind, of = member["type"], member["member"]
    spec: dict = {}
    if (kind, of) in SCALARS:
        spec["type"] = SCALARS[(kind, of)]
    elif kind == "list":
        spec["type"] = "list"
        spec["of"] = SCALARS.get(("int", of)) or SCALARS.get((of, of)) or of
    elif kind == "object":
        spec["type"] = "object"
        spec["of"] = of
    else:
        raise ValueError(f"unknown member type {kind}/{of} of {member['name']}")
    if member.get("required"):
        spec["required"] = True
    enum = enum_of(member.get("document", "")) if spec["type"] == "string" else None
    if enum:
        spec["enum"] = enum
    return spec


def contract(service: str) -> dict:
    api = description(service)
    objects = api["objects"]
    actions = {name: action["input"] for name, action in sorted(api["actions"].items())}
    kept: dict[str, dict] = {}
    pending = sorted(set(actions.values()))
    while pending:
        name = pending.pop()
        if name in kept:
            continue
        # (deprecated members included: the SDKs still send them, e.g. StopInstances' ForceStop)
        members = {m["name"]: member_spec(m) for m in objects[name].get("members", [])}
        kept[name] = members
        pending += sorted({m["of"] for m in members.values()
                           if m.get("of") in objects and m["of"] not in kept})
    return {"service": service, "version": api["metadata"]["apiVersion"],
            "source": f"tccli {metadata.version('tccli')}: tccli/services/{service}/"
                      f"{SERVICES[service]}/api.json",
            "actions": actions, "objects": dict(sorted(kept.items()))}


def rendered(service: str) -> str:
    return json.dumps(contract(service), ensure_ascii=False, sort_keys=True, indent=1) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check the files are current")
    args = parser.parse_args()
    installed = metadata.version("tccli")
    if installed != PINNED_TCCLI:
        print(f"tccli {installed} is installed; the contract is pinned to {PINNED_TCCLI}",
              file=sys.stderr)
        return 2
    stale = []
    for service in SERVICES:
        path = OUT / f"{service}.json"
        text = rendered(service)
        if args.check:
            if not path.exists() or path.read_text("utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, "utf-8")
    if stale:
        print("not current (run tools/generate_contract.py): " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
