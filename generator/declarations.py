"""Meme declarations: a fenced `meme` block inside a post, readable as plain Markdown.

```meme
id: keys-in-ci
template: prefer
captions:
  - Cluster admin keys stored in the CI server
  - An agent in each cluster pulls its own changes
alt: A figure waves away keys in CI and approves an agent inside the cluster.
caption: Optional line shown under the picture.
width: 560
```
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from .errors import Location, MemeError, excerpt
from .shaping import visible
from .yamlfile import parse_mapping

# A fence may sit inside containers: indented under a list item, an admonition or a content
# tab, or behind blockquote markers. `prefix` is that container part, `fence` the fence itself.
FENCE = re.compile(
    r"^(?P<prefix>(?:[ \t]*>)*[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^`\s]*)[^`]*$"
)
ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
REQUIRED = ("id", "template", "captions", "alt")
OPTIONAL = ("caption", "width")


@dataclass(frozen=True)
class MemeSpec:
    """What an author declared, and where: everything needed to render and to describe it."""

    source: str  # the post's path, as shown in errors
    line: int  # 1-based line of the opening fence
    end_line: int  # 1-based line of the closing fence
    id: str
    template: str
    captions: tuple[str, ...]
    alt: str
    caption: str | None = None
    width: int | None = None
    field_lines: dict[str, int] = field(default_factory=dict, compare=False, hash=False)

    def where(self, name: str | None = None) -> Location:
        """The location of one field (or of the block) for an error message."""
        return Location(self.source, self.field_lines.get(name or "", self.line), name)


@dataclass(frozen=True)
class Block:
    """A fenced `meme` block: its body and the lines it spans (1-based, fences included)."""

    start: int
    end: int
    body: str


def find_blocks(markdown: str, source: str) -> list[Block]:
    """Every fenced block whose info string is `meme`, however deeply Markdown nests it.

    Found as pymdownx.superfences finds them (which then hands each to the `meme` fence): a
    fence closes on the same fence character, at least as long, under the same container
    prefix; the body loses that prefix. Other code blocks are skipped with their contents, so
    a meme shown as an example inside one is left alone.
    """
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index = 0
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            index += 1
            continue
        prefix, fence = match["prefix"], match["fence"]
        closing = re.compile(rf"^[ \t>]*{fence[0]}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(index + 1, len(lines)) if closing.match(lines[j])), None)
        if match["info"] == "meme":
            if end is None:
                raise MemeError(
                    Location(source, index + 1),
                    "this meme block is never closed",
                    f"end it with a line of {fence}, indented as the opening one",
                )
            body = [_without_prefix(line, prefix) for line in lines[index + 1 : end]]
            blocks.append(Block(index + 1, end + 1, "\n".join(body)))
        index = (end if end is not None else len(lines)) + 1
    return blocks


def _without_prefix(line: str, prefix: str) -> str:
    """A body line without its container's indentation and quote markers (as far as present)."""
    position = 0
    for mark in prefix:
        if position < len(line) and line[position] == mark:
            position += 1
        elif mark == ">" and line[position:].lstrip(" \t").startswith(">"):
            position = line.index(">", position) + 1
        else:
            break
    return line[position:]


def parse_block(block: Block, source: str) -> MemeSpec:
    """Check one block's fields; MemeError with the line of the field at fault."""
    located = parse_mapping(block.body, source, first_line=block.start + 1, what="meme block")
    data, lines = located.data, located.key_lines

    def error(key: str, problem: str, fix: str = "") -> MemeError:
        return MemeError(Location(source, lines.get(key, block.start), key), problem, fix)

    unknown = sorted(set(data) - set(REQUIRED) - set(OPTIONAL))
    if unknown:
        raise error(
            unknown[0],
            f"unknown field(s) {', '.join(unknown)}",
            f"a meme takes {', '.join(REQUIRED + OPTIONAL)}",
        )
    missing = [key for key in REQUIRED if key not in data]
    if missing:
        fix = "describe what the picture shows and what the joke is, for screen readers"
        raise MemeError(
            Location(source, block.start, missing[0]),
            f"the meme is missing {', '.join(repr(k) for k in missing)}",
            fix if missing[0] == "alt" else f"a meme needs {', '.join(REQUIRED)}",
        )
    meme_id = data["id"]
    if not isinstance(meme_id, str) and ID_PATTERN.fullmatch(str(meme_id)):
        raise error(
            "id",
            f"id {excerpt(meme_id)} was read as {_kind(meme_id)}, not as text",
            f'quote it: id: "{meme_id}"',
        )
    if not isinstance(meme_id, str) or not ID_PATTERN.fullmatch(meme_id):
        raise error(
            "id", f"id {excerpt(meme_id)} is not a short slug", "use lowercase letters, digits, -"
        )
    template = data["template"]
    if not isinstance(template, str) or not template.strip():
        raise error("template", "template must be a template's name")
    captions = data["captions"]
    if isinstance(captions, str):
        captions = [captions]
    for index, item in enumerate(captions if isinstance(captions, list) else []):
        if isinstance(item, dict) and len(item) == 1:  # "- Push: it deploys" is YAML key: value
            ((key, value),) = item.items()
            item_lines = located.item_lines.get("captions", [])
            line = item_lines[index] if index < len(item_lines) else lines.get("captions")
            raise MemeError(
                Location(source, line, "captions"),
                f"caption {index + 1} {excerpt(f'{key}: {value}')} has ': ' in it, which YAML"
                " reads as 'key: value'",
                f'put it in quotes: - "{key}: {value}"'[:120],
            )
    if (
        not isinstance(captions, list)
        or not captions
        or not all(isinstance(c, str | int | float) and str(c).strip() for c in captions)
    ):
        raise error("captions", "captions must be a list of non-empty texts", "one '- text' a line")
    caption_lines = located.item_lines.get("captions", [])
    alt = data["alt"]
    if not isinstance(alt, str) or len([w for w in alt.split() if visible(w)]) < 3:
        raise error(
            "alt",
            "alt text is missing or too short",
            "say in a sentence what the picture shows and what the joke is",
        )
    caption = data.get("caption")
    if caption is not None and not isinstance(caption, str):
        raise error("caption", "caption must be one line of text")
    width = data.get("width")
    if width is not None and (
        not isinstance(width, int) or isinstance(width, bool) or not 100 <= width <= 1200
    ):
        raise error("width", f"width {excerpt(width)} is not a number of pixels", "use 100 to 1200")
    return MemeSpec(
        source=source,
        line=block.start,
        end_line=block.end,
        id=meme_id,
        template=template.strip(),
        captions=tuple(" ".join(str(c).split()) for c in captions),
        alt=" ".join(alt.split()),
        caption=" ".join(caption.split()) if caption else None,
        width=width,
        field_lines=dict(lines)
        | {f"captions[{i}]": line for i, line in enumerate(caption_lines[: len(captions)])},
    )


def parse_post(markdown: str, source: str | Path) -> list[MemeSpec]:
    """All memes of one post, ids checked for duplicates; the first error wins per block."""
    source = str(source)
    specs: list[MemeSpec] = []
    seen: dict[str, int] = {}
    for block in find_blocks(markdown, source):
        spec = parse_block(block, source)
        if spec.id in seen:
            raise MemeError(
                spec.where("id"),
                f"duplicate meme id {excerpt(spec.id)} (first used on line {seen[spec.id]})",
                "give each meme in a post its own id",
            )
        seen[spec.id] = spec.line
        specs.append(spec)
    return specs


def _kind(value: object) -> str:
    """What YAML made of an unquoted value, in an author's words."""
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
