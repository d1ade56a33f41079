"""The data layer: a registry of real datasets and weights, fetched verified and offline-capable.

``fetch`` gets files into the cache (mirror first, then canonical URLs); ``mnist``,
``flowers17`` and ``samples`` turn them into what lessons need.
"""

from edgelab.datasets.cache import (ArchiveError, ChecksumError, DataError,
                                    DataUnavailableError, fetch)

__all__ = ["fetch", "DataError", "DataUnavailableError", "ChecksumError", "ArchiveError"]
