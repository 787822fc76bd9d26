"""What a reader's shell needs so that every `kubectl` they type reaches the lab and no other.

`python -m demo kubeconfig` prints these lines for `eval`: KUBECONFIG lists the lab's own
kubeconfig files (one per cluster, contexts named as the provider names them, e.g.
`kind-tellit-east`), and PATH starts with the lab's kubectl, which is within Kubernetes'
version-skew policy of the clusters. The reader's own `~/.kube/config` is never written to.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass
from pathlib import Path

SHELLS = ("sh", "fish")


@dataclass(frozen=True)
class Reach:
    """How one cluster of the lab is reached: its kubeconfig file and its context there."""

    cluster: str
    kubeconfig: Path
    context: str
    kubectl: Path


def kubeconfig_value(reaches: list[Reach]) -> str:
    """KUBECONFIG for these clusters: their files joined as kubectl merges them (the first
    file's current context is the current one)."""
    return os.pathsep.join(dict.fromkeys(str(r.kubeconfig) for r in reaches))


def export_lines(reaches: list[Reach], shell: str, path: str) -> list[str]:
    """The lines to `eval` in `shell`: KUBECONFIG, then PATH when the lab's kubectl folder is not
    already first on `path` (so evaluating them twice changes nothing more)."""
    if shell not in SHELLS:
        raise ValueError(f"unknown shell {shell!r}: one of {', '.join(SHELLS)}")
    if not reaches:
        return []
    lines = [_export(shell, "KUBECONFIG", shlex.quote(kubeconfig_value(reaches)))]
    folder = str(reaches[0].kubectl.parent)
    if path.split(os.pathsep)[0] != folder:
        if shell == "fish":
            lines.append(f"set -gx PATH {shlex.quote(folder)} $PATH")
        else:
            lines.append(f'export PATH={shlex.quote(folder)}:"$PATH"')
    return lines


def _export(shell: str, name: str, quoted: str) -> str:
    return f"set -gx {name} {quoted}" if shell == "fish" else f"export {name}={quoted}"
