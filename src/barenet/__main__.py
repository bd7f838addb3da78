"""`python -m barenet ...` runs the `barenet` command."""

import sys

from .cli import main

sys.exit(main())
