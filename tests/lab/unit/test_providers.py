"""The provider interface: what each provider can do is data, and a verb it cannot do refuses
with what to do instead, so no caller probes for methods or branches on a provider's name."""

from __future__ import annotations

import ast

import pytest
from support.lab import lab_at
from support.paths import ROOT

from demo.clusters import NAMES, ClusterError, ProviderInfo, info, provider
from demo.clusters.node import Node


def test_each_provider_says_what_it_can_do():
    assert info("kind") == ProviderInfo(
        runs_pods=True, node_access=True, stops=False, host_ports=(5001,)
    )
    assert info("kwok") == ProviderInfo(runs_pods=False, node_access=False, stops=True)
    assert info("kubeconfig") == ProviderInfo()
    with pytest.raises(ClusterError, match="unknown cluster provider 'minikube'"):
        info("minikube")


@pytest.mark.parametrize("name", ["kwok", "kubeconfig"])
def test_a_provider_without_pods_or_nodes_refuses_saying_why(name, tmp_path):
    owner = provider(name, lab_at(tmp_path))
    assert owner.node("east") is None
    assert owner.pull_registry([]) is None and owner.running_pull_registry() is None
    with pytest.raises(ClusterError) as refused:
        owner.load_image("east", "app:v1")
    assert f"the {name} provider cannot load images" in refused.value.message
    assert "PROVIDER=kind" in refused.value.fix


def test_kind_hands_out_its_node_and_refuses_an_outage(tmp_path):
    kind = provider("kind", lab_at(tmp_path))
    assert kind.node("west") == Node("tellit-west-control-plane")
    with pytest.raises(ClusterError, match="does not stop"):
        kind.stop("west")


def test_no_caller_probes_a_provider_or_branches_on_its_name():
    """`getattr(owner, ...)`, `hasattr(provider, ...)` or `owner.name == "kind"` outside
    demo/clusters: the capability belongs in ProviderInfo, the behaviour in a verb."""
    found = []
    for path in (ROOT / "demo").rglob("*.py"):
        if path.is_relative_to(ROOT / "demo" / "clusters"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") in {
                "getattr",
                "hasattr",
            }:
                target = ast.unparse(node.args[0]) if node.args else ""
                if any(word in target for word in ("owner", "provider")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
            if isinstance(node, ast.Compare) and any(
                isinstance(c, ast.Constant) and c.value in NAMES for c in node.comparators
            ):
                left = ast.unparse(node.left)
                if left.endswith(".name") and any(w in left for w in ("owner", "provider")):
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not found, found
