"""``python -m edgelab`` is the ``edgelab`` command."""

import sys

from edgelab.cli import main

sys.exit(main())
