"""What a workshop room needs, written for the facilitator's page: `python -m demo room`.

Everything comes from the lab's own code, so the page cannot drift from what `doctor` checks:
the shared needs and fixes (`doctor.NEEDS`), kind's port and inotify sizes (`checks`, the kind
provider's `info`), the steps attendees type (`tour.STEPS`), and how to reset one attendee's
lab. The site reads the JSON this writes (it never imports the lab); a test holds the committed file
to what this module says now.
"""

from __future__ import annotations

import json
from pathlib import Path

from demo.clusters import info
from demo.core import checks, versions
from demo.core.paths import REPO, write_atomic
from demo.lab import doctor
from demo.workshop.tour import STEPS

ROOT = REPO
ROOM = ROOT / "docs" / "workshop" / "room.json"
CLUSTERS = 3
# The five failures that stop a laptop before the lab starts, in the order doctor shows them.
KIND_PORT = info("kind").host_ports[0]  # kind's registry, published on the reader's loopback
PROBLEMS = ("docker", "memory", "free disk", f"port {KIND_PORT}", "inotify")


def requirements(clusters: int = CLUSTERS) -> list[dict[str, str]]:
    """Each need of an attendee's laptop for `make demo PROVIDER=kind`, with doctor's fix."""
    rows = [{"check": n.check, "need": n.need, "fix": n.fix} for n in doctor.NEEDS.values()]
    port = KIND_PORT
    rows.append({
        "check": f"port {port}",
        "need": f"port {port} free on 127.0.0.1 (the lab's registry, as kind's recipe has it)",
        "fix": checks.port_free_fix(port),
    })  # fmt: skip
    instances = checks.HEADROOM["max_user_instances"]
    instances += checks.PER_CLUSTER["max_user_instances"] * clusters
    watches = checks.HEADROOM["max_user_watches"]
    watches += checks.PER_CLUSTER["max_user_watches"] * clusters
    rows.append({
        "check": "inotify",
        "need": f"Linux: fs.inotify.max_user_instances {instances} or more and max_user_watches"
                f" {watches} or more for {clusters} clusters (macOS and Windows: Docker Desktop's"
                " own Linux)",
        "fix": f"sudo sysctl fs.inotify.max_user_instances={checks.MIN_INOTIFY_INSTANCES}"
               f" fs.inotify.max_user_watches={checks.MIN_INOTIFY_WATCHES}",
    })  # fmt: skip
    rows.append({
        "check": "kind node image",
        "need": f"{versions.KIND_NODE_IMAGE.split('@')[0]} (pinned by digest), pulled once",
        "fix": "pull it before the day: `make demo` once at home, on the venue's network never",
    })  # fmt: skip
    return rows


UP = {
    "title": "up",
    "command": "python -m demo up --provider kind",
    "shows": "three kind clusters, the registry and the git server come up",
}


def facts() -> dict:
    needs = requirements()
    return {
        "provider": "kind",
        "clusters": CLUSTERS,
        "versions": {"kind": versions.KIND, "kubernetes": versions.KIND_NODE_KUBERNETES},
        "requirements": needs,
        "problems": [row for name in PROBLEMS for row in needs if row["check"] == name],
        "steps": [UP, *({"title": s.title, "command": s.command, "shows": s.shows} for s in STEPS)],
        "reset": [
            "python -m demo down   # removes that attendee's clusters, registry, git server",
            "python -m demo doctor",
            "python -m demo lab --provider kind   # the story again, one step at a time",
        ],
    }


def write(path: Path = ROOM) -> Path:
    return write_atomic(path, json.dumps(facts(), indent=1) + "\n", mode=0o644)
