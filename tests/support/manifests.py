"""Manifests and a config repository for the tests of pull delivery (our agent and Flux):
a restricted Deployment, a ConfigMap, and a work tree that commits and pushes them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import yaml

from demo.services.git.server import GitServer
from support.lab import GIT_ENV


def deployment(digest: str, replicas: int = 2) -> dict:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app"},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "app"}},
            "template": {
                "metadata": {"labels": {"app": "app"}},
                "spec": {
                    "securityContext": {
                        "runAsNonRoot": True,
                        "runAsUser": 65534,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "containers": [
                        {
                            "name": "app",
                            "image": f"127.0.0.1:5000/lab/app@sha256:{digest * 64}",
                            "securityContext": {
                                "allowPrivilegeEscalation": False,
                                "capabilities": {"drop": ["ALL"]},
                            },
                        }
                    ],
                },
            },
        },
    }


def configmap(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


class Repo:
    """A work tree that commits manifests under deploy/ and pushes them with the token."""

    def __init__(self, server: GitServer, folder: Path):
        self.folder = folder
        self.url = server.push_url("config")
        self.git("init", "-q", "-b", "main", str(folder), cwd=None)

    def git(self, *args: str, cwd: Path | str | None = "here") -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.folder if cwd == "here" else cwd,
            capture_output=True,
            text=True,
            env=GIT_ENV,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout

    def commit(self, files: dict[str, str | list[dict] | None], message: str) -> str:
        for name, text in files.items():
            path = self.folder / "deploy" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if text is None:
                path.unlink()
            else:
                path.write_text(text if isinstance(text, str) else yaml.safe_dump_all(text))
        self.git("add", "-A")
        self.git("commit", "-qm", message)
        self.git("push", "-q", self.url, "main")
        return self.git("rev-parse", "HEAD").strip()
