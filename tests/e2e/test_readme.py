"""The README's client snippets, run as written (only the port 4599 becomes the test server's).

A snippet is the fenced code block right after a `<!-- snippet: NAME -->` marker: `python` runs with
this venv's Python, `tccli` with bash (`tccli` resolving to this venv's), `node` with Node and the
SDK installed in tests/e2e/node. No proxies, and no Tencent Cloud variables from the outside: the
snippets must bring their own credentials.

The README starts the server with a plain `cbslocal serve`, whose timing is `realistic`; the
snippets run against such a server, and the Python one against an `instant` one as well.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.server import Server, clean_env

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
NODE_MODULES = Path(__file__).with_name("node") / "node_modules"
VENV_BIN = Path(sys.executable).parent
README_PORT = "4599"
SNIPPET = re.compile(r"<!-- snippet: (?P<name>[\w-]+) -->\s*\n```(?P<lang>\w*)\n(?P<code>.*?)\n```",
                     re.S)


def snippets() -> dict[str, str]:
    found: dict[str, str] = {}
    for match in SNIPPET.finditer(README.read_text(encoding="utf-8")):
        assert match["name"] not in found, f"two snippets named {match['name']}"
        found[match["name"]] = match["code"] + "\n"
    return found


def snippet(name: str, server: Server) -> str:
    code = snippets()[name]
    assert README_PORT in code, f"the {name} snippet does not use port {README_PORT}"
    return code.replace(README_PORT, str(server.port))


def snippet_env(tmp_path: Path, **extra: str) -> dict:
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in clean_env().items() if not k.startswith(("TENCENTCLOUD_", "TCCLI_"))}
    env.update(HOME=str(home), **extra)
    return env


def run(args: list[str], tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, capture_output=True, text=True, cwd=tmp_path,
                          env=snippet_env(tmp_path, **env), timeout=120)
    assert proc.returncode == 0, (f"exit {proc.returncode}\nstdout:\n{proc.stdout}\n"
                                  f"stderr:\n{proc.stderr}")
    return proc


@pytest.fixture(scope="module")
def default_server(tmp_path_factory):
    """A fresh server as the README's `cbslocal serve` starts it (timing `realistic`)."""
    srv = Server(tmp_path_factory.mktemp("readme") / "data", timing="realistic").start()
    yield srv
    srv.stop()


def test_readme_has_the_snippets():
    assert set(snippets()) >= {"python", "tccli", "node"}


def _python(server: Server, tmp_path: Path) -> None:
    script = tmp_path / "snippet.py"
    script.write_text(snippet("python", server), encoding="utf-8")
    proc = run([sys.executable, str(script)], tmp_path)
    assert proc.stdout.strip().splitlines() == ["UNATTACHED"], proc.stdout


def test_python_snippet(fresh_server, tmp_path):
    _python(fresh_server, tmp_path)


def test_python_snippet_on_the_default_server(default_server, tmp_path):
    # The README's server runs with `realistic` timing, where a new disk is listed only after 2 s.
    _python(default_server, tmp_path)


def test_tccli_snippet(default_server, tmp_path):
    script = tmp_path / "snippet.sh"
    script.write_text(snippet("tccli", default_server), encoding="utf-8")
    assert (VENV_BIN / "tccli").exists()
    proc = run(["bash", "-e", str(script)], tmp_path,
               PATH=f"{VENV_BIN}:{clean_env().get('PATH', '')}")
    out = json.loads(proc.stdout)
    assert isinstance(out["TotalCount"], int)
    assert isinstance(out["DiskSet"], list) and len(out["DiskSet"]) <= 10
    assert re.fullmatch(r"[0-9a-f-]{36}", out["RequestId"])


def test_node_snippet(default_server, tmp_path):
    script = tmp_path / "snippet.js"
    script.write_text(snippet("node", default_server), encoding="utf-8")
    proc = run(["node", str(script)], tmp_path, NODE_PATH=str(NODE_MODULES))
    match = re.fullmatch(r"(\d+) (\d+)", proc.stdout.strip())
    assert match, proc.stdout
    total, listed = int(match[1]), int(match[2])
    assert listed == min(total, 10), proc.stdout


def test_python_cvm_snippet(default_server, tmp_path):
    script = tmp_path / "cvm_snippet.py"
    script.write_text(snippet("python-cvm", default_server), encoding="utf-8")
    proc = run([sys.executable, str(script)], tmp_path)
    instance_ids = json.loads(proc.stdout.strip().replace("'", '"'))
    assert len(instance_ids) == 1 and re.fullmatch(r"ins-[a-z0-9]{8}", instance_ids[0])
