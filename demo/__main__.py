"""`python -m demo`: the lab's one command line (see demo.cli)."""

import sys

from .cli import main

sys.exit(main())
