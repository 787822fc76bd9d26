"""Every command or manifest a page shows runs, or says it is only a sketch.

A code block carries, in its info string, either `.illustrative` or `.lab-run` with the check
that runs it (`data-lab="..."`):

- `kwok`: YAML applied with a server-side dry-run to a real kube-apiserver (a kwok cluster);
  shell run command by command against that cluster, each `# prints: X` line checked against
  the output of the command above it;
- `registry`: shell run against the lab's registry and Docker (`REGISTRY` is its address);
- `flux`: the GitRepository and Kustomization the lab applies, exactly, dry-run on a kwok
  cluster with Flux's CRDs;
- `encryption`: the EncryptionConfiguration the secrets mini-lab turns on (its kind test runs
  it), with a key of the right length;
- `commands`: `make` targets dry-run (`make -n`) and `python -m demo` command lines parsed by
  the lab's own parser; "Get the lab" boxes are checked the same way.
"""

from __future__ import annotations

import base64
import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml
from support.lab import lab_at, need_docker, need_flux, need_lab_tools, need_registry
from support.paths import ROOT

from demo.core.paths import tools_dir
from demo.toolchain import provision

PAGES = sorted((ROOT / "docs").rglob("*.md"))
CUSTOM = {"meme", "lab-result", "lab-scaling", "lab-summary", "workshop-room", "get-the-lab",
          "lab-versions", "series-index", "glossary"}  # fmt: skip
CHECKS = {"kwok", "registry", "flux", "encryption", "commands"}
OPEN = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`]*)$")
PRINTS = re.compile(r"^#\s*prints:\s?(?P<text>.*)$")


@dataclass
class Block:
    page: Path
    line: int
    language: str
    classes: list[str] = field(default_factory=list)
    attributes: dict[str, str] = field(default_factory=dict)
    text: str = ""

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"

    @property
    def check(self) -> str | None:
        return self.attributes.get("data-lab") if "lab-run" in self.classes else None


def parse_info(info: str) -> tuple[str, list[str], dict[str, str]]:
    """(language, classes, attributes) of an info string, plain (`yaml`) or braced
    (`{.yaml .lab-run data-lab="kwok"}`: the first class is the language)."""
    info = info.strip()
    if not info.startswith("{"):
        return (info.split()[0] if info else ""), [], {}
    tokens = shlex.split(info.strip("{}"))
    classes = [t[1:] for t in tokens if t.startswith(".")]
    attributes = dict(t.split("=", 1) for t in tokens if "=" in t)
    return (classes[0] if classes else ""), classes[1:], attributes


def blocks(page: Path) -> list[Block]:
    """Every fenced block of a page, at any depth (admonitions, lists), dedented."""
    found, lines, index = [], page.read_text().splitlines(), 0
    while index < len(lines):
        opened = OPEN.match(lines[index])
        if not opened:
            index += 1
            continue
        indent, fence = opened["indent"], opened["fence"]
        block = Block(page, index + 1, *parse_info(opened["info"]))
        body, index = [], index + 1
        while index < len(lines) and not (
            lines[index].strip().startswith(fence) and not lines[index].strip().strip(fence[0])
        ):
            body.append(
                lines[index][len(indent) :] if lines[index].startswith(indent) else lines[index]
            )
            index += 1
        block.text = "\n".join(body) + "\n"
        found.append(block)
        index += 1
    return found


ALL = [block for page in PAGES for block in blocks(page)]
SHOWN = [b for b in ALL if b.language not in CUSTOM]


def test_every_block_a_page_shows_is_run_or_marked_illustrative():
    unmarked = [
        f"{b.where}: ```{b.language or '(no language)'} is neither .illustrative nor .lab-run"
        f" with a data-lab of {sorted(CHECKS)}"
        for b in SHOWN
        if "illustrative" not in b.classes and b.check not in CHECKS
    ]
    assert not unmarked, "\n".join(unmarked)
    # The posts show what a developer types: each part has at least one block that runs.
    for part in sorted((ROOT / "docs" / "series").glob("part-*.md")):
        if part.stem == "part-5-service-models":
            continue  # service models and words: nothing to type
        assert any(b.check for b in SHOWN if b.page == part), f"{part.name} shows nothing that runs"


def test_the_check_finds_an_unmarked_block(tmp_path):
    page = tmp_path / "page.md"
    page.write_text(
        "Text.\n\n!!! note\n    ```yaml\n    a: 1\n    ```\n\n```{.sh .illustrative}\nx\n```\n"
    )
    found = blocks(page)
    assert [(b.line, b.language, b.classes) for b in found] == [
        (4, "yaml", []),
        (8, "sh", ["illustrative"]),
    ]
    assert found[0].text == "a: 1\n" and found[0].check is None


def of(check: str) -> list[Block]:
    return [b for b in SHOWN if b.check == check]


def ids(items: list[Block]) -> list[str]:
    return [b.where for b in items]


# --- commands: make targets and the lab's command line -------------------------------------


def command_lines(text: str) -> list[str]:
    lines = [line.split("  #")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line and not line.startswith("#")]


def get_the_lab_commands() -> list[tuple[str, str]]:
    from generator.site import getlab

    found = []
    for block in (b for b in ALL if b.language == "get-the-lab"):
        found += [(block.where, c) for c in getlab.commands(getlab.parse_fence(block.text), None)]
    return found


def check_command(where: str, command: str) -> None:
    if command.startswith(("git clone ", "cd ")):
        return  # the box's own first two lines (its address may be a placeholder)
    words = shlex.split(command)
    if words[0] == "eval" and len(words) == 2 and re.fullmatch(r"\$\((.+)\)", words[1]):
        return check_command(where, words[1][2:-1])  # eval "$(...)": the command inside
    if words[0] == "make":
        done = subprocess.run(
            ["make", "-n", *words[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, f"{where}: `{command}` is not a make target: {done.stderr}"
    elif words[:3] == [".venv/bin/python", "-m", "demo"]:
        from demo.cli.main import build_parser

        try:
            build_parser().parse_args(words[3:])
        except SystemExit as exit_:
            raise AssertionError(f"{where}: `{command}` is not a lab command line") from exit_
    else:
        raise AssertionError(f"{where}: `{command}`: only make and the lab's CLI are checked")


def test_every_command_a_page_shows_is_a_make_target_or_a_lab_command():
    commands = [(b.where, c) for b in of("commands") for c in command_lines(b.text)]
    commands += get_the_lab_commands()
    assert len(commands) >= 15
    for where, command in commands:
        check_command(where, command)


def test_a_wrong_command_is_refused():
    with pytest.raises(AssertionError, match="not a lab command line"):
        check_command("x", ".venv/bin/python -m demo launch --rockets")
    with pytest.raises(AssertionError, match="not a make target"):
        check_command("x", "make no-such-target")
    with pytest.raises(AssertionError, match="not a lab command line"):
        check_command("x", 'eval "$(.venv/bin/python -m demo kubeconfig --shell tcsh)"')
    check_command("x", 'eval "$(.venv/bin/python -m demo kubeconfig --cluster west)"')


# --- encryption: what the secrets mini-lab turns on --------------------------------------------


@pytest.mark.parametrize("block", of("encryption"), ids=ids(of("encryption")))
def test_the_encryption_configuration_is_the_mini_lab_s(block):
    from demo.workshop.minilabs.secrets import encryption_config

    shown = yaml.safe_load(block.text)
    key = shown["resources"][0]["providers"][0]["secretbox"]["keys"][0]["secret"]
    assert len(base64.b64decode(key, validate=True)) == 32, "secretbox keys are 32 bytes"
    assert shown == yaml.safe_load(encryption_config(key))


# --- against a real API server (kwok) ---------------------------------------------------------


@pytest.fixture(scope="module")
def kwok_cluster(tmp_path_factory):
    """One kwok cluster of this module's own lab state; kubectl on the PATH, as readers have."""
    need_lab_tools()
    from demo.clusters import provider
    from demo.lab.teardown import down

    state = tmp_path_factory.mktemp("blocks-lab")
    before = os.environ.get("TELLIT_LAB_STATE")
    os.environ["TELLIT_LAB_STATE"] = str(state)
    try:
        cluster = provider("kwok", lab_at(state)).create("docs")
        kubectl = provision.binaries(tools_dir())["kubectl"]
        env = {**os.environ, "KUBECONFIG": str(cluster.kubeconfig),
               "PATH": f"{kubectl.parent}{os.pathsep}{os.environ['PATH']}"}  # fmt: skip
        yield cluster, env
    finally:
        down(lab_at(state))
        if before is None:
            os.environ.pop("TELLIT_LAB_STATE", None)
        else:
            os.environ["TELLIT_LAB_STATE"] = before


def shell_steps(text: str) -> list[tuple[str, str | None]]:
    """(command, what it prints or None) for each command of a shell block."""
    steps: list[tuple[str, str | None]] = []
    pending = ""
    for line in text.splitlines():
        printed = PRINTS.match(line.strip())
        if printed:
            command, _ = steps[-1]
            steps[-1] = (command, printed["text"])
        elif line.strip().startswith("#") or not line.strip():
            continue
        elif line.rstrip().endswith("\\"):
            pending += line.rstrip()[:-1] + " "
        else:
            steps.append((pending + line, None))
            pending = ""
    return steps


def run_shell(block: Block, env: dict[str, str]) -> list[str]:
    """Run each command of the block as a reader would; each one's output."""
    outputs = []
    for command, expected in shell_steps(block.text):
        done = subprocess.run(["bash", "-c", command], cwd=ROOT, env=env, capture_output=True,
                              text=True, timeout=300)  # fmt: skip
        if expected is not None:
            assert done.stdout.strip() == expected, (block.where, command, done.stdout, done.stderr)
        else:
            assert done.returncode == 0, (block.where, command, done.stdout, done.stderr)
        outputs.append(done.stdout)
    return outputs


def dry_run(manifest: str, env: dict[str, str], namespace: str) -> None:
    subprocess.run(["kubectl", "create", "namespace", namespace], env=env, capture_output=True)
    done = subprocess.run(
        ["kubectl", "apply", "--dry-run=server", "-n", namespace, "-f", "-"],
        input=manifest, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


@pytest.mark.provisioned
@pytest.mark.parametrize("block", of("kwok"), ids=ids(of("kwok")))
def test_each_block_runs_against_a_real_api_server(block, kwok_cluster):
    _, env = kwok_cluster
    if block.language == "yaml":
        dry_run(block.text, env, "docs-check")
    else:
        assert block.language == "sh", f"{block.where}: kwok runs yaml and sh blocks"
        assert shell_steps(block.text)
        run_shell(block, env)


@pytest.mark.provisioned
def test_the_flux_objects_shown_are_the_ones_the_lab_applies(kwok_cluster):
    need_flux()
    from demo.cli.main import build_parser
    from demo.delivery.agent.incluster import mirror_url
    from demo.delivery.flux.controllers import crd_files
    from demo.delivery.flux.objects import git_repository, kustomization
    from demo.delivery.lab_delivery import CONFIG_REPO, NAMESPACE

    [block] = of("flux")
    interval = build_parser().parse_args(["agent", "start"]).interval  # the lab's default
    shown = list(yaml.safe_load_all(block.text))
    assert shown == [
        git_repository(NAMESPACE, mirror_url(CONFIG_REPO), interval),
        kustomization(NAMESPACE, interval),
    ]
    _, env = kwok_cluster
    for crd in crd_files(tools_dir()):
        done = subprocess.run(["kubectl", "apply", "--server-side", "-f", str(crd)], env=env,
                              capture_output=True, text=True, timeout=60)  # fmt: skip
        assert done.returncode == 0, done.stderr
    subprocess.run(["kubectl", "wait", "--for=condition=Established", "--timeout=60s",
                    "crd/gitrepositories.source.toolkit.fluxcd.io",
                    "crd/kustomizations.kustomize.toolkit.fluxcd.io"], env=env,
                   capture_output=True, timeout=90)  # fmt: skip
    dry_run(block.text, env, NAMESPACE)


# --- against the lab's registry and Docker ----------------------------------------------------


@pytest.mark.provisioned
def test_the_digest_round_trip_runs_against_the_lab_s_registry(tmp_path):
    need_docker()
    need_registry()
    from demo.services.registry import LocalRegistry

    registry = LocalRegistry(tmp_path / "registry")
    found = registry.start()
    env = {**os.environ, "REGISTRY": found.address}
    pushed, inspected = of("registry")
    tag = f"{found.address}/shop/cart:1.4.2"
    try:
        digest = run_shell(pushed, env)[-1].strip()
        assert re.fullmatch(r"sha256:[0-9a-f]{64}", digest), digest
        assert found.resolve("shop/cart", "1.4.2") == digest  # the lab's own lookup agrees
        assert run_shell(inspected, env)[-1].strip() == f"{found.address}/shop/cart@{digest}"
    finally:
        subprocess.run(["docker", "image", "rm", "--force", tag], capture_output=True)
        registry.stop()
