"""Declarations: parsed from plain Markdown, with the line of every mistake."""

from __future__ import annotations

import pytest

from generator.declarations import parse_post, replace_blocks
from generator.errors import MemeError

GOOD = """# A post

Some text.

```meme
id: first
template: prefer
captions:
  - One
  - Two
alt: A figure waves away one and picks two.
caption: Shown under the picture.
width: 600
```

```python
print("not a meme")
```
"""


def test_a_declaration_is_parsed_with_its_lines():
    [spec] = parse_post(GOOD, "docs/post.md")
    assert (spec.id, spec.template, spec.captions) == ("first", "prefer", ("One", "Two"))
    assert (spec.line, spec.end_line, spec.width) == (5, 14, 600)
    assert spec.field_lines["alt"] == 11


def test_replace_blocks_swaps_only_memes():
    out = replace_blocks(GOOD, "docs/post.md", lambda spec: f"<figure>{spec.id}</figure>")
    assert "<figure>first</figure>" in out
    assert "```meme" not in out and 'print("not a meme")' in out


def bad(body: str) -> str:
    return f"Intro line\n\n```meme\n{body}```\n"


@pytest.mark.parametrize(
    ("body", "message", "line"),
    [
        ("id: x\ntemplate: prefer\ncaptions: [a, b]\n", "missing 'alt'", 3),
        ("id: x\ntemplate: prefer\ncaptions: [a, b]\nalt: a b c\nsize: 3\n", "unknown field", 8),
        ("id: x\ntemplate: prefer\ncaptions: [a, b\nalt: a b c\n", "not valid YAML", 7),
        ("- just\n- a list\n", "must be a YAML mapping", 4),
        ("id: X Y\ntemplate: prefer\ncaptions: [a]\nalt: a b c\n", "not a short slug", 4),
        ("id: x\ntemplate: prefer\ncaptions: []\nalt: a b c\n", "non-empty", 6),
        ("id: x\ntemplate: prefer\ncaptions: [a]\nalt: ok\n", "alt text is missing or too", 7),
        ("id: x\ntemplate: prefer\ncaptions: [a]\nalt: a b c\nwidth: huge\n", "width", 8),
    ],
)
def test_malformed_declarations(body, message, line):
    with pytest.raises(MemeError, match=message) as caught:
        parse_post(bad(body), "docs/post.md")
    assert str(caught.value).startswith(f"docs/post.md:{line}")


def test_duplicate_id_names_both_lines():
    block = "```meme\nid: same\ntemplate: prefer\ncaptions: [a, b]\nalt: a b c\n```\n"
    with pytest.raises(MemeError, match=r"duplicate meme id 'same' \(first used on line 1\)"):
        parse_post(block + "\n" + block, "docs/post.md")


def test_unclosed_block():
    with pytest.raises(MemeError, match="never closed") as caught:
        parse_post("text\n```meme\nid: x\n", "docs/post.md")
    assert str(caught.value).startswith("docs/post.md:2")
