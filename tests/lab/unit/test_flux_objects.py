"""The objects the lab gives Flux, checked without a cluster: kind's path (Flux's released
manifests need images CI cannot pull) uses exactly these, so they are pinned down here."""

from __future__ import annotations

import yaml

from demo.core import versions
from demo.delivery.flux import controllers as flux
from demo.delivery.flux.objects import (
    APPLIER,
    KUSTOMIZE_CONTROLLER,
    SOURCE_CONTROLLER,
    controller_access,
    dump,
    git_repository,
    kustomization,
    receiver_access,
    requested_at_patch,
    seconds,
)


def test_the_git_repository_polls_main_of_the_config_repository():
    source = git_repository("shop", "http://tellit-git-mirror:8080/config.git", 15)
    assert source["apiVersion"] == "source.toolkit.fluxcd.io/v1"
    assert source["metadata"] == {
        "name": "config",
        "namespace": "shop",
        "labels": {"tell-it-with-a-meme/lab": "true"},
    }
    assert source["spec"]["url"].endswith("/config.git")
    assert source["spec"]["interval"] == "15s" and source["spec"]["ref"] == {"branch": "main"}


def test_the_kustomization_prunes_and_applies_as_the_namespaced_applier():
    spec = kustomization("shop", 2.5)["spec"]
    assert spec["prune"] is True
    assert spec["serviceAccountName"] == APPLIER and spec["targetNamespace"] == "shop"
    assert spec["sourceRef"] == {"kind": "GitRepository", "name": "config"}
    assert spec["path"] == "./deploy" and spec["interval"] == "2500ms"
    assert seconds(0.0015) == "2ms" and seconds(60) == "60s" and seconds(2.5) == "2500ms"


def test_the_controllers_grants_are_namespaced_and_only_one_impersonates_the_applier():
    objects = controller_access("shop")
    kinds = [o["kind"] for o in objects]
    assert kinds == ["ServiceAccount", "Role", "RoleBinding"] * 2  # no ClusterRole anywhere
    assert all(o["metadata"]["namespace"] == "shop" for o in objects)
    roles = {o["metadata"]["name"]: o["rules"] for o in objects if o["kind"] == "Role"}
    assert set(roles) == {SOURCE_CONTROLLER, KUSTOMIZE_CONTROLLER}
    impersonate = [r for r in roles[KUSTOMIZE_CONTROLLER] if "impersonate" in r["verbs"]]
    assert impersonate == [
        {
            "apiGroups": [""],
            "resources": ["serviceaccounts"],
            "verbs": ["impersonate"],
            "resourceNames": [APPLIER],
        }
    ]
    for rules in roles.values():
        groups = {g for r in rules for g in r["apiGroups"]}
        assert "apps" not in groups and "rbac.authorization.k8s.io" not in groups
    assert not any("secrets" in r["resources"] for r in roles[SOURCE_CONTROLLER])
    assert not any("impersonate" in r["verbs"] for r in roles[SOURCE_CONTROLLER])


def test_the_receiver_may_patch_the_one_git_repository():
    (account, role, binding) = receiver_access("shop")
    assert role["rules"] == [
        {
            "apiGroups": ["source.toolkit.fluxcd.io"],
            "resources": ["gitrepositories"],
            "verbs": ["get", "patch"],
            "resourceNames": ["config"],
        }
    ]
    assert binding["subjects"][0]["name"] == account["metadata"]["name"]
    stamp = "2026-11-29T10:00:00.000000Z"
    assert requested_at_patch(stamp) == {
        "metadata": {"annotations": {"reconcile.fluxcd.io/requestedAt": stamp}}
    }


def test_everything_dumps_as_yaml_kubectl_reads_back():
    objects = [git_repository("shop", "http://x/config.git", 5), kustomization("shop", 5)]
    assert list(yaml.safe_load_all(dump(objects))) == objects


def test_kind_installs_flux_from_its_pinned_release():
    apply, *waits = flux.released_install_args()
    assert apply == ["apply", "--server-side", "-f", versions.FLUX_INSTALL_URL]
    assert f"/download/{versions.FLUX_RELEASE}/install.yaml" in versions.FLUX_INSTALL_URL
    # Controllers v1.N ship in Flux v2.N: the release and the controllers built here agree.
    assert versions.FLUX.split(".")[1] == versions.FLUX_RELEASE.split(".")[1]
    assert [w[-1] for w in waits] == [
        "deployment/source-controller",
        "deployment/kustomize-controller",
    ]


def test_status_reads_flux_conditions_and_revisions():
    kustomization_object = {
        "status": {
            "conditions": [
                {"type": "Reconciling", "status": "True"},
                {
                    "type": "Ready",
                    "status": "False",
                    "reason": "ReconciliationFailed",
                    "message": "Deployment/shop/app dry-run failed: replicas: Invalid value",
                },
            ],
            "lastAppliedRevision": "main@sha1:" + "a" * 40,
            "lastAttemptedRevision": "main@sha1:" + "b" * 40,
            "inventory": {"entries": [{"id": "shop_app_apps_Deployment", "v": "v1"}]},
        }
    }
    source = {"status": {"artifact": {"revision": "main@sha1:" + "b" * 40}}}
    status = flux.status_of(kustomization_object, source)
    assert status.last_applied == "a" * 40 and status.last_attempted == "b" * 40
    assert status.fetched == "b" * 40 and status.inventory == 1
    data = status.data()
    assert data["lastAppliedRevision"] == "a" * 40
    assert data["lastError"].startswith("Deployment/shop/app dry-run failed")
    assert flux.status_of({}, {}).ready == "Unknown"


def test_controllers_listen_on_loopback_only(tmp_path):
    ports = {"metrics": 1, "health": 2, "storage": 3}
    for name in flux.CONTROLLER_NAMES:
        args = flux.controller_args(name, ports, tmp_path)
        addresses = [a.split("=", 1)[1] for a in args if a.split("=")[0].endswith("-addr")]
        assert addresses and all(a.startswith("127.0.0.1:") for a in addresses), args
        assert "--watch-all-namespaces=false" in args
    source = flux.controller_args("source-controller", ports, tmp_path)
    assert "--storage-adv-addr=127.0.0.1:3" in source and f"--storage-path={tmp_path}" in source
