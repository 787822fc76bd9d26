"""Read YAML while keeping the line of every mapping key, so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Location, MemeError


@dataclass(frozen=True)
class Located:
    """A parsed YAML mapping and the 1-based line of each of its keys."""

    data: dict[str, Any]
    key_lines: dict[str, int]
    line: int
    # For a key whose value is a list: the line of each of its items.
    item_lines: dict[str, list[int]] = field(default_factory=dict)


MAX_BYTES = 16 << 10  # a meme block or template config is a few hundred bytes
# libyaml's safe loader where PyYAML was built with it (its wheels are): 10x faster, same nodes.
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def parse_mapping(text: str, path: Path | str, first_line: int = 1, what: str = "block") -> Located:
    """Parse `text` as a YAML mapping; `first_line` is where the text starts in `path`.

    Refused before anything is built from the text: more than MAX_BYTES, and anchors or
    aliases (an alias bomb expands a few lines into gigabytes). Duplicate keys are refused
    too (YAML would silently keep the last).
    """
    size = len(text.encode("utf-8", "replace"))
    if size > MAX_BYTES:
        raise MemeError(
            Location(path, first_line),
            f"the {what} is {size} bytes; at most {MAX_BYTES} are read",
            "keep captions and alt text short; a meme block is a few lines",
        )
    _refuse_anchors(text, path, first_line, what)
    try:
        loader = SAFE_LOADER(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark else first_line
        problem = str(error.problem or error)
        if "mapping values are not allowed" in problem:
            raise MemeError(
                Location(path, line),
                f"the {what} has a value with ': ' in it, which YAML reads as a new key",
                'put that value in quotes, e.g. - "Push: the pipeline deploys"',
            ) from None
        raise MemeError(
            Location(path, line),
            f"the {what} is not valid YAML: {problem}",
            "write one 'key: value' per line; quote captions that contain ': ' or start with a"
            " special character",
        ) from None
    except yaml.YAMLError as error:  # the reader's: a control character, say
        raise MemeError(
            Location(path, first_line + text[: getattr(error, "position", 0)].count("\n")),
            f"the {what} is not valid YAML: {str(error).splitlines()[0]}",
            "remove the character it names (save the file as plain UTF-8 text)",
        ) from None
    except (ValueError, OverflowError) as error:  # a value YAML's syntax allows: 2026-02-30
        raise MemeError(
            Location(path, first_line + _unbuildable_line(node)),
            f"the {what} has a value YAML cannot build: {error}",
            "write dates as YYYY-MM-DD with a real day (or quote the value to keep it text)",
        ) from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise MemeError(
            Location(path, first_line),
            f"the {what} must be a YAML mapping of 'key: value' lines",
            "see the examples in README.md",
        )
    key_lines: dict[str, int] = {}
    item_lines: dict[str, list[int]] = {}
    for key, value in node.value:
        if isinstance(value, yaml.SequenceNode):
            item_lines[str(key.value)] = [first_line + i.start_mark.line for i in value.value]
        line = first_line + key.start_mark.line
        if str(key.value) in key_lines:
            raise MemeError(
                Location(path, line, str(key.value)),
                f"'{key.value}' appears twice (first on line {key_lines[str(key.value)]})",
                "keep one of them",
            )
        key_lines[str(key.value)] = line
    return Located(
        data={str(k): v for k, v in data.items()},
        key_lines=key_lines,
        line=first_line,
        item_lines=item_lines,
    )


def _unbuildable_line(node: yaml.Node) -> int:
    """The line (from 0) of the first value under `node` that YAML cannot build."""
    for child in _children(node):
        try:
            yaml.SafeLoader("").construct_object(child, deep=True)
        except (ValueError, OverflowError):
            return child.start_mark.line
    return 0


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair for n in [*_children(n), n]]
    if isinstance(node, yaml.SequenceNode):
        return [n for item in node.value for n in [*_children(item), item]]
    return []


def _refuse_anchors(text: str, path: Path | str, first_line: int, what: str) -> None:
    """Scan (without composing anything) for anchors and aliases; the first is an error."""
    try:
        for token in yaml.scan(text, Loader=SAFE_LOADER):
            if isinstance(token, (yaml.AnchorToken, yaml.AliasToken)):
                raise MemeError(
                    Location(path, first_line + token.start_mark.line),
                    f"the {what} uses a YAML anchor or alias ('&' or '*')",
                    "write each value out in full; quote text that starts with '&' or '*'",
                )
    except yaml.YAMLError:
        return  # malformed YAML: the parser below says where, in its own words


def read_mapping(path: Path, what: str, shown: Path | None = None) -> Located:
    """The mapping in `path`; errors name it `shown` (the path as its author sees it)."""
    shown = shown or path
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        problem = error.strerror if isinstance(error, OSError) else str(error)
        raise MemeError(Location(shown), f"cannot read the {what}: {problem}") from None
    return parse_mapping(text, shown, what=what)
