"""The site's own fences fail loudly: each one renders, or the build stops saying where.

pymdownx.superfences turns any exception in a custom fence's formatter, other than its own
SuperFencesException, into "not a fence": the block ships as raw code and a strict build
passes. So every fence of the site is `loud`: an unexpected error becomes a
SuperFencesException naming the fence. And before either builder writes anything, every such
fence of every page is drawn once (`check_page`): a fence that cannot be drawn is an error
with its file and line, gathered with the memes' errors, while the last good site stays.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from pymdownx.superfences import SuperFencesException

from ..declarations import find_blocks
from ..errors import Location, MemeError


class FenceError(SuperFencesException):
    """A fence of the site that could not be drawn: stops the build with what to do."""


Formatter = Callable[..., str]


def loud(name: str) -> Callable[[Formatter], Formatter]:
    """Decorate a superfences formatter so that no error of it is swallowed as "not a fence"."""

    def decorate(formatter: Formatter) -> Formatter:
        @functools.wraps(formatter)
        def formatted(src, language, class_name, options, md, **kwargs) -> str:
            try:
                return formatter(src, language, class_name, options, md, **kwargs)
            except SuperFencesException:
                raise
            except Exception as error:  # the point: every error, said aloud
                raise FenceError(f"the {name} fence{_naming(src)} {_why(error)}") from error

        formatted.fence_name = name
        return formatted

    return decorate


def _naming(src: str) -> str:
    """What the fence's body names, in a few words: `(experiment: polling-load)`."""
    said = " ".join(src.split())
    return f" ({said[:60]})" if said else ""


def _why(error: Exception) -> str:
    if isinstance(error, KeyError):
        return (
            f"could not be drawn: the data it reads has no {error}; run what writes that file"
            " again (the lab page says which command)"
        )
    return (
        f"could not be drawn ({type(error).__name__}: {str(error)[:200]}): check what it names,"
        " and the file it reads"
    )


def formatters() -> dict[str, Formatter]:
    """The site's fences that are drawn from files (memes are planned on their own)."""
    from . import getlab, glossary, results, scaling, seriesindex, verdicts, versions, workshop

    found = [results.format_result, scaling.format_scaling, workshop.format_room,
             getlab.format_get_the_lab, seriesindex.format_series_index,
             glossary.format_glossary, verdicts.format_summary,
             versions.format_versions]  # fmt: skip
    return {f.fence_name: f for f in found}


def check_page(markdown: str, shown: str) -> list[MemeError]:
    """Draw every fence of the page once; an error for each one that cannot be drawn."""
    problems = []
    for name, formatter in formatters().items():
        try:
            blocks = find_blocks(markdown, shown, name)
        except MemeError as error:
            problems.append(error)
            continue
        for block in blocks:
            try:
                formatter(block.body + "\n", name, name, {}, None)
            except SuperFencesException as error:
                problems.append(MemeError(Location(shown, block.start), str(error)))
    return problems
