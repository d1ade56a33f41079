"""``edgelab data serve``: the teacher's verified data cache, served to a classroom.

A room without internet (or with a slow one, shared by thirty laptops) gets its data from
the teacher's machine: the teacher fills the cache once (``edgelab prepare`` or
``edgelab data fetch all``), runs ``edgelab data serve --host 0.0.0.0 --port 8765``, and
each learner sets ``EDGELAB_MIRROR=http://<teacher's address>:8765`` (the command prints
the line to copy). The learner's data layer then downloads from there like from any
mirror and checks every file against its own registry's checksum, so a damaged file is
refused on the learner's side too.

Only files of the registry are served, at their registry path (the cache's layout, which
is also the mirror's), and only once their bytes match the registry's checksum: each file
is verified when the server starts and again whenever it changed on disk since; a file
that does not verify is answered with 404 and a line on the teacher's terminal, never
served. ``/`` answers with a short page listing what is served. Read-only: GET and HEAD.
"""

from __future__ import annotations

import html
import http.server
import socket
import sys
import threading
from pathlib import Path

from edgelab.datasets import cache, registry

DEFAULT_PORT = 8765
CHUNK = 1 << 20


class Catalogue:
    """The registry files in the cache: what may be served, verified when it changes."""

    def __init__(self, data_dir: Path):
        self.data_dir = Path(data_dir)
        self.files = {f.path: (ds.name, f) for ds in registry.datasets().values() for f in ds.files}
        self._lock = threading.Lock()

    def verified(self, path: str) -> Path | None:
        """The cached file for registry ``path`` if its bytes match, else None."""
        entry = self.files.get(path)
        if entry is None:
            return None
        local = self.data_dir / path
        if not local.is_file():
            return None
        with self._lock:           # hashing the same file twice at once helps nobody
            return local if cache.matches(local, entry[1].hash) else None

    def summary(self) -> list[tuple[str, int, int, int]]:
        """(dataset, files, verified, bytes) for every dataset in the registry."""
        rows = []
        for name, ds in registry.datasets().items():
            good = [self.data_dir / f.path for f in ds.files if self.verified(f.path)]
            rows.append((name, len(ds.files), len(good), sum(p.stat().st_size for p in good)))
        return rows


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "edgelab-data-serve"
    catalogue: Catalogue
    log = staticmethod(print)

    def log_message(self, *args):   # one line per refusal instead (see _refuse), no access log
        pass

    def _refuse(self, code: int, path: str, why: str) -> None:
        self.log(f"refused {path} to {self.client_address[0]}: {why}")
        body = f"{why}\n".encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _index(self) -> None:
        rows = "".join(f"<tr><td>{html.escape(n)}</td><td>{v}/{f}</td><td>{b / 1e6:,.1f} MB</td></tr>"
                       for n, f, v, b in self.catalogue.summary())
        host = self.headers.get("Host") or "THIS-ADDRESS"
        body = (f"<!doctype html><meta charset='utf-8'><title>edgelab data mirror</title>"
                f"<h1>edgelab data mirror</h1><p>On each learner's machine:</p>"
                f"<pre>export EDGELAB_MIRROR=http://{html.escape(host)}</pre>"
                f"<table><tr><th>dataset</th><th>verified files</th><th>size</th></tr>{rows}"
                f"</table>").encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):  # noqa: N802 - the name http.server calls
        from urllib.parse import unquote, urlsplit

        path = unquote(urlsplit(self.path).path).lstrip("/")
        if path in ("", "index.html"):
            return self._index()
        if path not in self.catalogue.files:
            return self._refuse(404, path, "not a file of the edgelab data registry")
        local = self.catalogue.verified(path)
        if local is None:
            exists = (self.catalogue.data_dir / path).is_file()
            return self._refuse(404, path, "its bytes do not match the registry's checksum; "
                                "not served (run edgelab data fetch again)" if exists else
                                "not in this cache (edgelab data fetch or edgelab prepare fills it)")
        size = local.stat().st_size
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.end_headers()
        if self.command == "HEAD":
            return
        try:
            with open(local, "rb") as handle:
                for block in iter(lambda: handle.read(CHUNK), b""):
                    self.wfile.write(block)
        except (BrokenPipeError, ConnectionResetError):
            pass                     # the learner went away; nothing to clean up here

    do_HEAD = do_GET


def make_server(host: str, port: int, data_dir: Path | None = None, log=print):
    """A threaded HTTP server for the cache at ``data_dir`` (default: edgelab's), not started."""
    catalogue = Catalogue(data_dir or cache.paths.data_dir())
    handler = type("BoundHandler", (Handler,), {"catalogue": catalogue,
                                                "log": staticmethod(log)})
    server = http.server.ThreadingHTTPServer((host, port), handler)
    server.daemon_threads = True
    return server, catalogue


def addresses(host: str) -> list[str]:
    """The addresses learners can use to reach a server bound to ``host``."""
    if host not in ("", "0.0.0.0", "::"):
        return [host]
    found = []
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))        # no packet is sent: this only picks a route
        found.append(probe.getsockname()[0])
    except OSError:
        pass
    finally:
        probe.close()
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET):
            found.append(info[4][0])
    except OSError:
        pass
    found = [a for a in dict.fromkeys(found) if not a.startswith("127.")]
    return found or ["127.0.0.1"]


def serve(host: str, port: int, *, say=print, ready: threading.Event | None = None) -> int:
    """Serve until interrupted; returns the exit status."""
    try:
        server, catalogue = make_server(host, port, log=lambda m: say(f"edgelab data serve: {m}"))
    except OSError as err:
        print(f"edgelab data serve: cannot listen on {host}:{port}: {err.strerror or err} "
              "(choose another --port, or the address of one of this machine's networks "
              "with --host)", file=sys.stderr)
        return 1
    bound = server.server_address[1]
    rows = catalogue.summary()
    total = sum(r[3] for r in rows)
    say(f"edgelab data serve: serving the verified cache {catalogue.data_dir} "
        f"({total / 1e6:,.1f} MB) on {host or '0.0.0.0'}:{bound}")
    for name, files, good, size in rows:
        state = "complete" if good == files else \
            ("not cached" if good == 0 else f"{files - good} file(s) missing or damaged")
        say(f"  {name:<18} {good:>5}/{files:<5} files  {size / 1e6:8.1f} MB  {state}")
    if any(r[2] < r[1] for r in rows if not registry.get(r[0]).optional):
        say("  (learners get what is missing here from the internet, if they have it; "
            "edgelab prepare or edgelab data fetch all fills the cache first)")
    say("learners: set the mirror before starting Jupyter or running edgelab, e.g.")
    for address in addresses(host):
        say(f"  export {cache.MIRROR_VAR}=http://{address}:{bound}")
    say("  (or, in a notebook, before its first data cell: %env EDGELAB_MIRROR=http://ADDRESS:PORT)")
    say("Ctrl-C stops the server.")
    if ready is not None:
        ready.set()
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        say("edgelab data serve: stopped")
    finally:
        server.server_close()
    return 0


def port_number(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (e.g. 8765)") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a port number (0-65535; 0 picks a free one)")
    return value
