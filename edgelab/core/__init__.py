"""The machinery every lesson shares, with no TensorFlow and no other edgelab import.

* :mod:`~edgelab.core.profiles` - the ``quick`` and ``full`` sizes of every lesson;
* :mod:`~edgelab.core.paths` - where downloads and outputs go;
* :mod:`~edgelab.core.atomic` - writes that are whole or absent, never half-written;
* :mod:`~edgelab.core.seeding` - one seed for every random number generator;
* :mod:`~edgelab.core.results` - the figures lessons and benchmarks record;
* :mod:`~edgelab.core.machine` - a one-line description of this machine;
* :mod:`~edgelab.core.project` - the repository's address (badges, setup cells).

Everything above this package may import it; it imports only the standard library, NumPy
and itself, so ``edgelab --help`` and the data layer stay fast.
"""
