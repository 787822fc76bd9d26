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

from .errors import Location, MemeError, MemeErrors, excerpt
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
    """A fenced `meme` block: its body and the lines it spans (1-based, fences included).

    `hidden`: inside an HTML comment, which Markdown does not show (nor is it rendered)."""

    start: int
    end: int
    body: str
    hidden: bool = False


# Lines that open a container whose content is indented 4 more (Python-Markdown's tab_length):
# list items, admonitions and details (!!!, ???, ???+), content tabs (===).
CONTAINER = re.compile(r"^(?P<indent>[ \t]*)(?:[-*+]|\d+[.)]|!!!|\?\?\?\+?|===)(?:[ \t]|$)")
COMMENT_OPEN, COMMENT_CLOSE = "<!--", "-->"


def _width(indent: str) -> int:
    return sum(4 - i % 4 if c == "\t" else 1 for i, c in enumerate(indent))


def _is_indented_code(lines: list[str], index: int, indent: str) -> bool:
    """Whether Markdown reads the fence on `lines[index]` as part of an indented code block:
    4 columns deeper than its container, after a blank line (a fence in a block quote is
    left to the quote's rules)."""
    if (index > 0 and lines[index - 1].strip()) or ">" in indent:
        return False
    depth = _width(indent)
    base = 0
    for line in reversed(lines[:index]):
        if not line.strip():
            continue
        width = _width(line[: len(line) - len(line.lstrip(" \t"))])
        if width < depth:
            base = width + 4 if CONTAINER.match(line) else width
            break
    return depth - base >= 4


def find_blocks(
    markdown: str, source: str, name: str = "meme", hidden: bool = False
) -> list[Block]:
    """Every fenced block whose info string is `name`, however deeply Markdown nests it.

    Found as pymdownx.superfences finds them (which then hands each to the `meme` fence): a
    fence closes on the same fence character, at least as long, under the same container
    prefix; the body loses that prefix. Other code blocks are skipped with their contents, so
    a meme shown as an example inside one is left alone. Blocks inside HTML comments are
    left out (superfences still hands them over: with `hidden`, they are listed, marked). A
    block indented as code is an error: Markdown would show it as code, superfences would
    draw it, and the two builders disagree.
    """
    blocks: list[Block] = []
    lines = markdown.splitlines()
    index, in_comment = 0, False
    while index < len(lines):
        match = FENCE.match(lines[index])
        if not match:
            in_comment = _comment_state(lines[index], in_comment)
            index += 1
            continue
        prefix, fence = match["prefix"], match["fence"]
        closing = re.compile(rf"^[ \t>]*{fence[0]}{{{len(fence)},}}[ \t]*$")
        end = next((j for j in range(index + 1, len(lines)) if closing.match(lines[j])), None)
        if match["info"] == name:
            if end is None:
                raise MemeError(
                    Location(source, index + 1),
                    f"this {name} block is never closed",
                    f"end it with a line of {fence}, indented as the opening one",
                )
            if not in_comment and _is_indented_code(lines, index, prefix):
                raise MemeError(
                    Location(source, index + 1),
                    f"this {name} block is indented 4 columns deeper than the text it belongs"
                    " to, which Markdown shows as code",
                    f"indent its {fence} as the text around it to show it; to show the block"
                    " itself as an example, fence it as ```yaml instead",
                )
            if hidden or not in_comment:
                body = [_without_prefix(line, prefix) for line in lines[index + 1 : end]]
                blocks.append(Block(index + 1, end + 1, "\n".join(body), in_comment))
        index = (end if end is not None else len(lines)) + 1
    return blocks


def _comment_state(line: str, in_comment: bool) -> bool:
    """Whether an HTML comment is still open after `line` (Markdown hides what it holds)."""
    position = 0
    while True:
        if in_comment:
            found = line.find(COMMENT_CLOSE, position)
            if found < 0:
                return True
            in_comment, position = False, found + len(COMMENT_CLOSE)
        else:
            found = line.find(COMMENT_OPEN, position)
            if found < 0:
                return False
            in_comment, position = True, found + len(COMMENT_OPEN)


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
    specs, errors = parse_post_gathering(markdown, source)
    if len(errors) == 1:
        raise errors[0]
    if errors:
        raise MemeErrors(errors)
    return specs


def parse_post_gathering(
    markdown: str, source: str | Path
) -> tuple[list[MemeSpec], list[MemeError]]:
    """The memes of one post that parse, and an error for each block that does not."""
    source = str(source)
    specs: list[MemeSpec] = []
    errors: list[MemeError] = []
    seen: dict[str, int] = {}
    try:
        blocks = find_blocks(markdown, source)
    except MemeError as error:
        return [], [error]
    for block in blocks:
        try:
            spec = parse_block(block, source)
        except MemeError as error:
            errors.append(error)
            continue
        if spec.id in seen:
            errors.append(MemeError(
                spec.where("id"),
                f"duplicate meme id {excerpt(spec.id)} (first used on line {seen[spec.id]})",
                "give each meme in a post its own id",
            ))  # fmt: skip
            continue
        seen[spec.id] = spec.line
        specs.append(spec)
    return specs, errors


def _kind(value: object) -> str:
    """What YAML made of an unquoted value, in an author's words."""
    if isinstance(value, bool):
        return "yes/no"
    if isinstance(value, int | float):
        return "a number"
    return f"a {type(value).__name__}"
