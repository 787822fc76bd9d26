"""A failed build leaves the last good site in place.

Both builders empty the site folder before they write a page (MkDocs cleans it after the
plugins' pre-build, Zensical builds with --clean), so an error while pages render, or a strict
build's warnings, would leave half a site or none. So the good site waits beside the new one,
renamed (a rename on one file system: nothing is copied) and comes back when the build fails.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LastGood:
    site: Path

    @property
    def aside(self) -> Path:
        return self.site.with_name(f".{self.site.name}.last-good")

    def set_aside(self) -> None:
        """Before the builder cleans the site: move it aside.

        An aside already there is from a build that was killed before it ended: it is the
        last good site, and what is in the site folder is that build's half."""
        if self.aside.exists():
            _remove(self.site)
            return
        if self.site.is_dir() and any(self.site.iterdir()):
            self.site.rename(self.aside)

    def restore(self) -> None:
        """The build failed: what it wrote goes, the last good site (if any) comes back."""
        _remove(self.site)
        if self.aside.exists():
            self.aside.rename(self.site)

    def discard(self) -> None:
        """The build succeeded: the new site is the last good one."""
        _remove(self.aside)


def _remove(folder: Path) -> None:
    if folder.is_symlink() or folder.is_file():
        folder.unlink()
    elif folder.exists():
        shutil.rmtree(folder)
