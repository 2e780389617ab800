"""``python -m smallcode_ls`` runs the console script."""

import sys

from smallcode_ls.cli import main

if __name__ == "__main__":  # indexing workers re-import this module under another name
    sys.exit(main())
