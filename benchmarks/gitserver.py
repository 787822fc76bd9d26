"""Git server benchmark: what one idle poll costs, and how many a second one client gets.

An idle poll is what a pull agent sends when nothing changed: the ref advertisement under
protocol v2 (a GET of info/refs) and an ls-refs of one ref (a POST). Measured on loopback
against the lab's own server, with the repository holding one commit; medians over many
polls. Also: what a refused request costs (the 401 of an anonymous push, sent before any
body is read). The table is printed and written to .artifacts/bench/gitserver.md.
"""

from __future__ import annotations

import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

from benchmarks.labs import quiet_lab
from benchmarks.report import SMOKE, publish, runs, verdict
from demo.core.git import author_env
from demo.services.git.server import GitServer

ROOT = Path(__file__).resolve().parent.parent
POLLS = runs("BENCH_GIT_POLLS", 300)
WHOLE = min(50, POLLS)  # whole `git ls-remote` polls: a process each
V2 = {"Git-Protocol": "version=2"}
# One ls-refs command for refs/heads/main, in pkt-lines, as git sends it.
LS_REFS = b"0014command=ls-refs\n00010009peel\n000csymrefs\n001bref-prefix refs/heads/main\n0000"


def step(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def timed(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def seed(server: GitServer, work: Path) -> str:
    """Push one commit, as the pipeline would; the repository's URL."""
    server.create_repo("config")
    env = author_env("bench", "bench@tellit.invalid")
    subprocess.run(["git", "init", "-q", "-b", "main", str(work)], check=True, env=env)
    (work / "app.yaml").write_text("replicas: 1\n")
    subprocess.run(["git", "-C", str(work), "add", "."], check=True, env=env)
    subprocess.run(["git", "-C", str(work), "commit", "-qm", "one"], check=True, env=env)
    pushed = server.push_url("config")
    subprocess.run(["git", "-C", str(work), "push", "-q", pushed, "main"], check=True, env=env)
    return server.url("config")


SLOW = 20 if SMOKE else 300  # connections that send a byte of their headers every 0.5 s


@contextlib.contextmanager
def slow_clients(port: int, count: int):
    """`count` connections trickling a request line, a byte every 0.5 s, for the block."""
    stop = threading.Event()

    def trickle(connection: socket.socket) -> None:
        with contextlib.suppress(OSError):
            connection.sendall(b"GET /config.git/info/refs HTTP/1.1\r\n")
            while not stop.wait(0.5):
                connection.sendall(b"X")

    connections = [socket.create_connection(("127.0.0.1", port)) for _ in range(count)]
    threads = [threading.Thread(target=trickle, args=(c,), daemon=True) for c in connections]
    for thread in threads:
        thread.start()
    try:
        yield
    finally:
        stop.set()
        for connection in connections:
            connection.close()


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-git-") as state:
        os.environ["TELLIT_LAB_STATE"] = state
        server = GitServer(quiet_lab(Path(state)))
        server.start()
        try:
            url = seed(server, Path(state) / "work")
            http = requests.Session()
            refs = f"{url}/info/refs?service=git-upload-pack"

            def advertise():
                http.get(refs, headers=V2, timeout=10).raise_for_status()

            def ls_refs():
                http.post(
                    f"{url}/git-upload-pack",
                    data=LS_REFS,
                    headers={**V2, "Content-Type": "application/x-git-upload-pack-request"},
                    timeout=10,
                ).raise_for_status()

            def refused():
                answer = http.post(
                    f"{url}/git-receive-pack",
                    data=b"\0" * 65536,
                    headers={"Content-Type": "application/x-git-receive-pack-request"},
                    timeout=10,
                )
                assert answer.status_code == 401

            def ls_remote():
                subprocess.run(
                    ["git", "-c", "protocol.version=2", "ls-remote", url, "refs/heads/main"],
                    check=True,
                    capture_output=True,
                )

            step(f"{POLLS} polls of each kind on loopback")
            rows = []
            for name, call, count in (
                ("advertisement, protocol v2 (GET info/refs)", advertise, POLLS),
                ("ls-refs of one ref (POST git-upload-pack)", ls_refs, POLLS),
                ("`git ls-remote` of one ref (a whole poll, git's own client)", ls_remote, WHOLE),
                ("anonymous push refused (401, 64 KiB body never read)", refused, POLLS),
            ):
                samples = timed(call, count)
                median = statistics.median(samples)
                rows.append((name, f"{median * 1000:.1f} ms", f"{1 / median:.0f}/s", count))
            log = server.accesses()
            polls = [a for a in log if a.method == "GET" and a.status == 200]
            poll_bytes = statistics.median(a.bytes_out for a in polls)

            step(f"{SLOW} slow clients trickling their headers, and real polls meanwhile")
            with slow_clients(server.port, SLOW):
                under_attack = timed(ls_remote, WHOLE)
            worst = max(under_attack)
            rows.append((
                f"`git ls-remote` while {SLOW} slow clients hold connections",
                f"{statistics.median(under_attack) * 1000:.1f} ms",
                f"slowest {worst * 1000:.0f} ms (goal: under 1 s)", WHOLE,
            ))  # fmt: skip
            missed = worst >= 1.0
        finally:
            server.stop()
    note = (
        f"An idle v2 advertisement is {poll_bytes:.0f} bytes of body. {os.cpu_count()} cores;"
        " git http-backend runs once per request."
    )
    publish("gitserver", ("request", "median", "one client, in a row", "samples"), rows, note)
    return verdict(missed)


if __name__ == "__main__":
    sys.exit(main())
