"""`python -m demo`: the lab's one command line (see demo.cli)."""

import faulthandler
import sys

from demo.cli.main import main

# A crash in a C extension (it happened in msgspec, under lightkube) then says where it was
# instead of ending the command without a word.
faulthandler.enable()
sys.exit(main())
