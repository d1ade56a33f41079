"""Headless Chromium as the browser tests launch it: Debian's ``/usr/bin/chromium``
(``make browser`` installs it; ``EDGELAB_CHROMIUM`` names another), driven by Playwright,
which downloads no browser of its own. Shared by ``test_lab_browser.py`` and
``test_book_browser.py``; the leading underscore keeps pytest from collecting it.
"""

from __future__ import annotations

import os

CHROMIUM = os.environ.get("EDGELAB_CHROMIUM", "/usr/bin/chromium")
# What a closed network needs: no sandbox as root, no GPU, and none of Chromium's
# background connections.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--disable-dev-shm-usage"]
