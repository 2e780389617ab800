"""``python -m smallcode_ls`` runs the console script."""

import sys

from smallcode_ls.cli import main

sys.exit(main())
