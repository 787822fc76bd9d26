"""kind and kubectl for readers' laptops: downloaded once, checksums verified, amd64 or arm64.

Each binary is checked against the SHA-256 file its publisher serves beside it (kind's
`.sha256sum`, Kubernetes' `.sha256`) before it is made executable. Facilitators preparing an
offline room set TELLIT_KIND and TELLIT_KUBECTL to binaries they brought.
"""

from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass
from pathlib import Path

import requests

from demo.core import versions
from demo.core.errors import LabError
from demo.core.platforms import ARCHITECTURES, SYSTEMS


class DownloadError(LabError):
    """kind or kubectl could not be downloaded and verified."""


@dataclass(frozen=True)
class Download:
    name: str
    url: str
    checksum_url: str


def target(system: str | None = None, machine: str | None = None) -> tuple[str, str]:
    """(os, arch) as release URLs spell them; a clear error on anything else."""
    system, machine = system or platform.system(), machine or platform.machine()
    if system not in SYSTEMS or machine.lower() not in ARCHITECTURES:
        raise DownloadError(
            f"no kind/kubectl build for {system} {machine}: the lab supports Linux and macOS on"
            " amd64 and arm64 (set TELLIT_KIND and TELLIT_KUBECTL to binaries of your own)"
        )
    return SYSTEMS[system], ARCHITECTURES[machine.lower()]


def kind_download(system: str, arch: str) -> Download:
    url = f"https://github.com/kubernetes-sigs/kind/releases/download/{versions.KIND}/kind-{system}-{arch}"
    return Download("kind", url, url + ".sha256sum")


def kubectl_download(system: str, arch: str) -> Download:
    url = f"https://dl.k8s.io/release/{versions.KIND_KUBECTL}/bin/{system}/{arch}/kubectl"
    return Download("kubectl", url, url + ".sha256")


def expected_sha256(checksum_text: str) -> str:
    """The hash in a checksum file: `<hex>` alone or `<hex>  <file name>`."""
    fields = checksum_text.split()
    if not fields or len(fields[0]) != 64 or any(c not in "0123456789abcdef" for c in fields[0]):
        raise DownloadError(f"not a SHA-256 checksum file: {checksum_text[:80]!r}")
    return fields[0]


def fetch(download: Download, destination: Path, session: requests.Session | None = None) -> Path:
    """Download, verify the checksum, then move into place; nothing is left on a mismatch."""
    http = session or requests.Session()
    expected = expected_sha256(_get(http, download.checksum_url).text)
    destination.parent.mkdir(parents=True, exist_ok=True)
    partial = destination.with_name(f".{destination.name}.partial")
    digest = hashlib.sha256()
    try:
        with _get(http, download.url, stream=True) as response, partial.open("wb") as out:
            for chunk in response.iter_content(1 << 16):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise DownloadError(
                f"{download.name} from {download.url} has SHA-256 {digest.hexdigest()}, but its"
                f" publisher says {expected}: not installed; try again, or bring your own binary"
            )
        partial.chmod(0o755)
        partial.replace(destination)
    finally:
        partial.unlink(missing_ok=True)
    return destination


def _get(http: requests.Session, url: str, stream: bool = False) -> requests.Response:
    try:
        response = http.get(url, timeout=60, stream=stream)
        response.raise_for_status()
    except requests.RequestException as error:
        raise DownloadError(
            f"could not download {url} ({type(error).__name__})",
            "check the network, or set TELLIT_KIND and TELLIT_KUBECTL to binaries you brought",
        ) from error
    return response


def kind_binaries(folder: Path) -> tuple[Path, Path]:
    """Paths of kind and kubectl, downloading (and verifying) whichever is missing."""
    system, arch = target()
    found = []
    for name, variable, make in (
        ("kind", "TELLIT_KIND", kind_download),
        ("kubectl", "TELLIT_KUBECTL", kubectl_download),
    ):
        override = os.environ.get(variable)
        if override:
            if not os.access(override, os.X_OK):
                raise DownloadError(
                    f"{variable}={override} is not an executable file",
                    f"point {variable} at the {name} binary, or unset it to download one",
                )
            found.append(Path(override))
            continue
        version = versions.KIND if name == "kind" else versions.KIND_KUBECTL
        path = folder / f"{name}-{version}-{system}-{arch}"
        if not path.is_file():
            fetch(make(system, arch), path)
        found.append(path)
    return found[0], found[1]
