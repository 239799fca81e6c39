"""`python -m discussit ...` runs the staff command."""

import sys

from discussit.cli import main

sys.exit(main())
