"""`python -m generator`: render one meme from the shell, or list the templates."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .declarations import MemeSpec
from .errors import MemeError, MemeErrors
from .files import writable_target, write_atomically
from .pipeline import plan_meme, render_bytes
from .render import Encoding
from .templates import TemplateLibrary


def _quality(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if not 1 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not a quality from 1 to 100")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    parser.add_argument(
        "--templates", type=Path, default=Path("img/templates"), help="templates folder"
    )
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("templates", help="list the templates and their boxes")
    meme = commands.add_parser("meme", help="render one meme to a file")
    meme.add_argument("template", help="template name (see `templates`)")
    meme.add_argument("captions", nargs="+", help="one caption per box, in order")
    meme.add_argument("-o", "--output", type=Path, required=True, help="file to write")
    meme.add_argument("--alt", default="A meme rendered from the shell.", help="alt text")
    meme.add_argument("--format", choices=("webp", "jpeg"), default="webp")
    meme.add_argument("--quality", type=_quality, default=80, help="1 to 100 (default: 80)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    library = TemplateLibrary(args.templates)
    if args.command == "meme" and (problem := writable_target(args.output)):
        print(f"error: -o {args.output}: {problem}; name a file to write", file=sys.stderr)
        return 2
    try:
        if args.command == "templates":
            for name in library.names():
                template = library.get(name)
                print(f"{name:16} {template.title}: boxes {', '.join(template.box_names)}")
            return 0
        spec = MemeSpec(
            source="<command line>",
            line=1,
            end_line=1,
            id=args.output.stem.split(".")[0] or "meme",
            template=args.template,
            captions=tuple(args.captions),
            alt=args.alt,
        )
        encoding = Encoding(format=args.format, quality=args.quality)
        planned = plan_meme(spec, library, encoding)
        write_atomically(args.output, render_bytes(planned))
        print(f"wrote {args.output} ({planned.width}x{planned.height})")
        return 0
    except (MemeError, MemeErrors) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    except OSError as error:  # a folder that cannot be made, a disk that is full
        print(f"error: cannot write {args.output}: {error.strerror or error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
