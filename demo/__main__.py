"""`python -m demo`: the lab's one command line (see demo.cli)."""

import sys

from demo.cli.main import main

sys.exit(main())
