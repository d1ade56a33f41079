"""Facts about the project itself, kept in one place.

The repository URL feeds every notebook's "Open in Colab" badge and its Colab setup
cell (see :mod:`edgelab.run.convention`), and the address of the book (the site that
``make book`` builds and ``.github/workflows/book.yml`` publishes on GitHub Pages), so
moving the repository means changing one line.
"""

VERSION = "0.1.0"  # also in pyproject.toml; tests/test_layout.py keeps the two equal
REPO_URL = "https://github.com/edgelab-curriculum/edgelab"
BRANCH = "main"


def github_path(path: str) -> str:
    """The web address of ``path`` (relative to the repository root) on GitHub."""
    return f"{REPO_URL}/blob/{BRANCH}/{path}"


def colab_url(path: str) -> str:
    """The "Open in Colab" address of a notebook at ``path`` in the repository."""
    slug = REPO_URL.removeprefix("https://github.com/")
    return f"https://colab.research.google.com/github/{slug}/blob/{BRANCH}/{path}"


def book_url(page: str = "") -> str:
    """The address of ``page`` (``"notebooks/03_gradcam.html"``) in the published book:
    GitHub Pages serves a repository ``owner/name`` at ``https://owner.github.io/name/``."""
    owner, name = REPO_URL.removeprefix("https://github.com/").split("/")
    return f"https://{owner.lower()}.github.io/{name}/{page}"
