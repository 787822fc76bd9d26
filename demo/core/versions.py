"""Every version the lab pins, in one place, so that caches can be keyed by them."""

KUBERNETES = "v1.36.3"
ETCD = "v3.6.16"
KWOK = "v0.8.0"
# For readers' laptops: kind, the node image its release notes name (pinned by digest), and a
# kubectl of the same Kubernetes minor.
KIND = "v0.29.0"
KIND_NODE_IMAGE = (
    "kindest/node:v1.33.1@sha256:050072256b9a903bd914c0b2866828150cb229cea0efe5892e2b644d5dd3b34f"
)
KIND_KUBECTL = "v1.33.1"

# Where `kindest/node` cannot be pulled, the lab builds its own node image
# (`demo.clusters.kind.nodeimage`) for KUBERNETES, with these components, and runs it with a kind
# that knows that version.
KIND_HERE = "v0.33.0"
CONTAINERD = "v2.3.7"
CRICTL = "v1.36.0"
COREDNS = "v1.14.2"

# Flux's source-controller and kustomize-controller, built from their Go modules (v1.9.6 is the
# newest that builds with Go 1.26, against k8s.io v0.36) and run beside the lab's own agent.
FLUX = "v1.9.6"
