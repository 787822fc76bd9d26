"""The glossary: one file of terms (includes/abbreviations.md), two uses.

pymdownx.snippets appends the file to every page, so the `abbr` extension turns each term into
a tooltip wherever a page uses it (the Material way); the `glossary` fence of
pymdownx.superfences lists the same terms on the glossary page. Nothing is written twice.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path

from .fences import loud
from .results import ResultFenceError, results_dir

GLOSSARY = Path("includes") / "abbreviations.md"
TERM = re.compile(r"^\*\[(?P<term>[^\]]+)\]:\s*(?P<meaning>.+)$")


@dataclass(frozen=True)
class Term:
    term: str
    meaning: str


def read_terms(text: str, shown: str = str(GLOSSARY)) -> list[Term]:
    """Every term of the file; a line that is neither a term, a comment nor blank is an error
    naming its line (a silent skip would drop a tooltip without a word)."""
    terms, comment = [], False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if comment or stripped.startswith("<!--"):
            comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        match = TERM.match(stripped)
        if not match:
            raise ResultFenceError(f"{shown}:{number}: not a term: write `*[TERM]: what it means`")
        terms.append(Term(match["term"], match["meaning"]))
    seen = [t.term for t in terms]
    twice = sorted({t for t in seen if seen.count(t) > 1})
    if twice:
        raise ResultFenceError(f"{shown}: terms defined twice: {', '.join(twice)}")
    return terms


def glossary_path() -> Path:
    return results_dir().parent.parent.parent / GLOSSARY


@loud("glossary")
def format_glossary(src: str, language: str, class_name: str, options, md, **kwargs) -> str:
    if src.strip():
        raise ResultFenceError("a glossary fence takes nothing inside it: leave it empty")
    path = glossary_path()
    try:
        terms = read_terms(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ResultFenceError(f"{path} is missing: the glossary's terms live there") from None
    items = "".join(
        f'<dt id="term-{html.escape(re.sub(r"[^a-z0-9]+", "-", t.term.lower()))}">'
        f"{html.escape(t.term)}</dt><dd>{html.escape(t.meaning)}</dd>"
        for t in sorted(terms, key=lambda t: t.term.lower())
    )
    return f'<dl class="glossary">{items}</dl>'
