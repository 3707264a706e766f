"""`python -m start_tui` is the `start-tui` command."""

import sys

from start_tui.cli import main

sys.exit(main())
