"""The lab's house rules that no linter knows: one runner starts every process, so a failed
command reaches the reader as a LabError naming it, never as a CalledProcessError traceback."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from support.paths import ROOT

DEMO = ROOT / "demo"
# Ways to start a process that do not go through demo.core.run.
SPAWNERS = {"subprocess", "pty.spawn", "os.system", "os.popen", "os.spawnv", "os.spawnvp"}
SPAWNERS |= {"os.spawnl", "os.spawnlp", "os.fork", "os.forkpty", "asyncio.create_subprocess_exec"}
# The docker shim replaces itself with the real docker (exec, not a child): it must import
# nothing of the lab, so that kind's every docker call stays fast.
EXEC_ALLOWED = {"demo/clusters/kind/shim.py": {"os.execv"}}


def spawns(source: str, where: str) -> list[str]:
    """Each line of `source` (the file `where`) that imports subprocess or calls a
    process-starting function."""
    tree = ast.parse(source)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            names += [alias.name for alias in node.names if isinstance(node, ast.Import)]
            found += [
                f"{node.lineno}: import {n}" for n in names if n.split(".")[0] == "subprocess"
            ]
        elif isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            allowed = EXEC_ALLOWED.get(where, set())
            if (name in SPAWNERS or name.startswith("os.exec")) and name not in allowed:
                found.append(f"{node.lineno}: {name}")
    return found


def test_no_module_outside_core_starts_a_process_itself():
    outside = [p for p in DEMO.rglob("*.py") if "core" not in p.relative_to(DEMO).parts[:1]]
    assert len(outside) > 50, "the scan found too few modules to mean anything"
    found = {where: spawns(p.read_text(), where) for p in outside if (where := rel(p))}
    found = {path: where for path, where in found.items() if where}
    assert not found, f"start processes through demo.core.run (run, attempt, start): {found}"


def rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def test_the_scan_sees_each_way_of_starting_a_process():
    sample = "import subprocess\nimport os\nos.system('x')\nos.execvp('x', [])\nos.execv('d', [])\n"
    assert [line.split(":")[0] for line in spawns(sample, "demo/x.py")] == ["1", "3", "4", "5"]
    shim = [line.split(":")[0] for line in spawns(sample, "demo/clusters/kind/shim.py")]
    assert shim == ["1", "3", "4"]


# Loops on the clock that are not waits: a bounded drain of a refused upload, the grace a
# stopped service gets before SIGKILL (it escalates; it does not give up), and the recording's
# read of its terminal (it raises when the command runs too long).
CLOCK_LOOPS_ALLOWED = {
    "demo/services/git/http.py": 1,
    "demo/services/background.py": 1,
    "demo/workshop/recording.py": 1,
}


def clock_loops(source: str) -> int:
    """`while` loops whose condition or body reads the clock: hand-written deadline loops."""
    count = 0
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.While):
            calls = [n for n in ast.walk(node) if isinstance(n, ast.Attribute)]
            clock = {"monotonic", "perf_counter", "time"}
            if any(isinstance(n.value, ast.Name) and n.value.id == "time" and n.attr in clock
                   for n in calls):  # fmt: skip
                count += 1
    return count


def test_waits_go_through_until_outside_core():
    found = {}
    for path in DEMO.rglob("*.py"):
        where = rel(path)
        if where.startswith("demo/core/"):
            continue
        loops = clock_loops(path.read_text())
        if loops > CLOCK_LOOPS_ALLOWED.get(where, 0):
            found[where] = loops
    assert not found, f"wait with demo.core.waits.until, which raises on timeout: {found}"


def test_the_clock_loop_scan_sees_a_deadline_loop():
    loop = "import time\nwhile time.monotonic() < 5:\n    pass\nwhile True:\n    time.sleep(1)\n"
    assert clock_loops(loop) == 1


DOCKER_VERBS = {"run", "ps", "rm", "image", "network", "exec", "inspect", "build", "save"}
DOCKER_VERBS |= {"load", "pull", "push", "tag", "import", "commit", "port", "version", "info"}
GIT_VERBS = {"clone", "init", "-C", "push", "pull", "fetch", "commit", "add", "ls-remote"}
GIT_VERBS |= {"rev-parse", "show", "ls-tree", "cat-file", "http-backend", "--version", "tag"}


def command_lines(source: str, program: str, verbs: set[str]) -> list[int]:
    """Lines that build a command line by hand: a list or tuple of `program` and one of its
    commands (a tuple of check names that starts with "docker" is no command)."""
    return sorted(
        node.lineno
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.List | ast.Tuple)
        and len(node.elts) > 1
        and [getattr(e, "value", None) for e in node.elts[:1]] == [program]
        and getattr(node.elts[1], "value", None) in verbs
    )


@pytest.mark.parametrize(
    ("program", "verbs", "home"),
    [("docker", DOCKER_VERBS, "demo/core/docker.py"), ("git", GIT_VERBS, "demo/core/git.py")],
)
def test_docker_and_git_command_lines_are_built_in_their_core_module_only(program, verbs, home):
    found = {}
    for path in DEMO.rglob("*.py"):
        where = rel(path)
        if where != home and (lines := command_lines(path.read_text(), program, verbs)):
            found[where] = lines
    assert not found, f"build {program} commands with {home}: {found}"


def test_the_command_scan_sees_a_hand_built_command():
    sample = 'run(["docker", "ps"])\nx = ("docker", "rm")\ny = ("docker", "memory")\n'
    sample += 'z = ["git", "docker"]\nrun(["docker", "image", "ls"])\nrun(["git", "-C", w])\n'
    assert command_lines(sample, "docker", DOCKER_VERBS) == [1, 2, 5]
    assert command_lines(sample, "git", GIT_VERBS) == [6]


# Where the lab's folders are found rather than handed down: the command line, and the two
# programs of the offline bundle (each a `python -m` entry of its own).
FINDERS = {"state_dir", "tools_dir", "from_environment"}
FINDING_ALLOWED = ("demo/core/", "demo/cli/", "demo/offline/pack.py", "demo/offline/load.py")


def finds_folders(source: str) -> list[int]:
    """Lines of `source` that call one of FINDERS (by name or as an attribute)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            called = node.func
            name = called.attr if isinstance(called, ast.Attribute) else getattr(called, "id", "")
            if name in FINDERS:
                found.append(node.lineno)
    return sorted(found)


def test_the_lab_s_folders_are_handed_down_not_found():
    """A LabContext (state, tools, log) is made once, where the program starts, and passed:
    a provider, service or experiment that found its own folders would ignore a test's."""
    found = {}
    for path in DEMO.rglob("*.py"):
        where = rel(path)
        if not where.startswith(FINDING_ALLOWED) and (lines := finds_folders(path.read_text())):
            found[where] = lines
    assert not found, f"take a LabContext instead of finding the folders: {found}"


def test_the_finder_scan_sees_each_way_of_finding_the_folders():
    sample = "a = state_dir()\nb = paths.tools_dir() / 'x'\nc = LabContext.from_environment()\n"
    sample += "d = state_dir\n"
    assert finds_folders(sample) == [1, 2, 3]
