"""Keeping C++ start-up chatter out of notebook cells.

TensorFlow, XLA, the TFLite converter and the PyTorch exporters print from C++ straight to
file descriptors 1 and 2, past Python's ``sys.stdout``/``sys.stderr``; Jupyter shows those
lines under the cell as red boxes. :func:`native_silenced` points the descriptors at
/dev/null for the duration of a ``with`` block. Python exceptions are raised, not printed,
so no error a learner needs is hidden.
"""

from __future__ import annotations

import contextlib
import os
import sys
from typing import Iterator, Sequence


@contextlib.contextmanager
def native_silenced(fds: Sequence[int] = (1, 2), *, enabled: bool = True) -> Iterator[None]:
    """File descriptors ``fds`` (default stdout and stderr) to /dev/null, then back."""
    if not enabled:
        yield
        return
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    saved = []
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        for fd in fds:
            try:
                saved.append((fd, os.dup(fd)))
                os.dup2(devnull, fd)
            except (OSError, ValueError):   # no such descriptor (some embedded interpreters)
                pass
        yield
    finally:
        for fd, copy in saved:
            os.dup2(copy, fd)
            os.close(copy)
        os.close(devnull)
