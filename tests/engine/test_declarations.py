"""Declarations: parsed from plain Markdown, with the line of every mistake."""

from __future__ import annotations

import pytest

from generator.declarations import parse_post
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


def test_blocks_are_found_where_markdown_nests_them():
    nested = "- item\n\n" + "\n".join("    " + line for line in GOOD.splitlines()[4:14])
    quoted = "\n".join("> " + line for line in GOOD.splitlines()[4:14])
    example = "````markdown\n" + "\n".join(GOOD.splitlines()[4:14]) + "\n````\n"
    [in_list] = parse_post(nested, "docs/post.md")
    [in_quote] = parse_post(quoted, "docs/post.md")
    assert parse_post(example, "docs/post.md") == []
    assert in_list.captions == in_quote.captions == ("One", "Two")
    assert (in_list.line, in_list.field_lines["alt"]) == (3, 9)


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


BOMB = "\n".join(
    ["id: bomb", "template: prefer", "a: &a [x, x, x, x, x, x, x, x, x]"]
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]"
        for i in range(8)
    ]
    + ["captions: *i", "alt: boom"]
)


def post_with(body: str) -> str:
    return f"# Post\n\n```meme\n{body}\n```\n"


def test_an_alias_bomb_is_refused_at_once_without_expanding_it():
    with pytest.raises(MemeError) as caught:
        parse_post(post_with(BOMB), "docs/post.md")
    assert "anchor or alias" in caught.value.problem and caught.value.where.line == 6
    assert len(str(caught.value)) < 300


def test_an_oversized_block_is_refused():
    body = "id: big\ntemplate: prefer\ncaptions: [a, b]\nalt: " + "x" * 20000
    with pytest.raises(MemeError, match="at most 16384 are read"):
        parse_post(post_with(body), "docs/post.md")


def test_a_duplicate_key_is_refused_with_both_lines():
    body = "id: one\ntemplate: prefer\ncaptions: [a, b]\nalt: first\nalt: second"
    with pytest.raises(MemeError) as caught:
        parse_post(post_with(body), "docs/post.md")
    assert caught.value.where.line == 8 and caught.value.where.field == "alt"
    assert "first on line 7" in caught.value.problem


def test_error_messages_quote_only_an_excerpt_of_a_value():
    body = f"id: {'a' * 5000}\ntemplate: prefer\ncaptions: [a, b]\nalt: x"
    with pytest.raises(MemeError) as caught:
        parse_post(post_with(body), "docs/post.md")
    assert "..." in str(caught.value) and len(str(caught.value)) < 300


def test_a_number_for_an_id_says_to_quote_it():
    body = "id: 123\ntemplate: prefer\ncaptions: [a, b]\nalt: a b c"
    with pytest.raises(MemeError) as caught:
        parse_post(post_with(body), "docs/post.md")
    assert "was read as a number, not as text" in caught.value.problem
    assert caught.value.fix == 'quote it: id: "123"'


def test_an_unquoted_caption_with_a_colon_says_to_quote_it():
    body = "id: c\ntemplate: prefer\ncaptions:\n  - Push: the pipeline deploys\n  - b\nalt: a b c"
    with pytest.raises(MemeError) as caught:
        parse_post(post_with(body), "docs/post.md")
    assert "': '" in caught.value.problem and caught.value.fix.startswith("put it in quotes")
    assert caught.value.where.line == 7
