"""edgelab: the small shared package the edgelab notebooks import.

It owns what more than one lesson needs (data, profiles, devices, plots, results) so
that notebooks hold the lesson and nothing else. Importing it is cheap: TensorFlow,
Sonnet and Chainer are imported only by the modules that use them.
"""

__version__ = "0.1.0"

from edgelab import notebook, paths, profiles  # noqa: E402
from edgelab.profiles import sizes  # noqa: E402
from edgelab.results import record  # noqa: E402
from edgelab.seeding import seed_everything  # noqa: E402

__all__ = ["__version__", "notebook", "paths", "profiles", "sizes", "record", "seed_everything"]
