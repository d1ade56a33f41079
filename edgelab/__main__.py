"""``python -m edgelab`` is the ``edgelab`` command."""

import sys

from edgelab.run.cli import main

sys.exit(main())
