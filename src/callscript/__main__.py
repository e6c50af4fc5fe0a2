"""``python -m callscript``: the same as the ``callscript`` command."""

import sys

from callscript.cli import main

if __name__ == "__main__":
    sys.exit(main())
