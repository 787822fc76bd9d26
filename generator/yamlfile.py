"""Read YAML while keeping the line of every mapping key, so errors can point at it."""

from __future__ import annotations

from dataclasses import dataclass
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


def parse_mapping(text: str, path: Path | str, first_line: int = 1, what: str = "block") -> Located:
    """Parse `text` as a YAML mapping; `first_line` is where the text starts in `path`."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = first_line + mark.line if mark else first_line
        raise MemeError(
            Location(path, line),
            f"the {what} is not valid YAML: {error.problem or error}",
            "write one 'key: value' per line; quote captions that contain ': ' or start with a"
            " special character",
        ) from None
    if not isinstance(data, dict) or not isinstance(node, yaml.MappingNode):
        raise MemeError(
            Location(path, first_line),
            f"the {what} must be a YAML mapping of 'key: value' lines",
            "see the examples in README.md",
        )
    key_lines = {str(key.value): first_line + key.start_mark.line for key, _ in node.value}
    return Located(data={str(k): v for k, v in data.items()}, key_lines=key_lines, line=first_line)


def read_mapping(path: Path, what: str) -> Located:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise MemeError(Location(path), f"cannot read the {what}: {error}") from None
    return parse_mapping(text, path, what=what)
