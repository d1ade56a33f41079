"""Sphinx configuration of the edgelab book; `make book` (tools/book.py) is how to build it.

One configuration for every edition (language): tools/book.py stages an edition's pages,
notebooks and teacher's notes into ``build/book-src/<code>/``, writes ``_book.json`` beside
them, and runs Sphinx on that folder with this configuration and ``-D language=<code>``.

Notebooks are rendered with the outputs they are committed with (``nb_execution_mode =
"off"``): the book never runs a lesson. Nothing is fetched at build time or by a reader's
browser: the theme, its fonts and icons come with sphinx-book-theme, MathJax with
sphinx-mathjax-offline, and the Colab badge image is replaced by a plain link.
"""

import sys
from pathlib import Path

from edgelab.core.project import BRANCH, REPO_URL

sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))

project = "edgelab"
author = "the edgelab authors"
copyright = "the edgelab authors; text and code under the Apache License 2.0"
html_title = "edgelab"

extensions = [
    "myst_nb",                  # Markdown pages (MyST) and notebooks with their stored outputs
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",   # MathJax 3 served from the site itself
    "edgelab_book",             # lesson bar, solutions, language switch (book/_ext/)
]
root_doc = "index"
exclude_patterns = ["_book.json", "**/.ipynb_checkpoints"]
templates_path = ["_templates"]

# ---- notebooks: stored outputs, never executed ----------------------------------------
nb_execution_mode = "off"
nb_merge_streams = True           # one text box per cell, as Jupyter shows it
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence"]
# Headings get GitHub's anchors (``#where-this-lesson-departs-from-its-source``); the
# extension turns a notebook's Jupyter-style links (``#Where-this-lesson-...``) into them.
myst_heading_anchors = 3
# A link to a page of another edition of the book (edgelab_book.repository_links writes
# them) is kept as a URL, not resolved as a document of this one.
myst_url_schemes = {"http": None, "https": None, "mailto": None, "ftp": None, "edgelab-page": None}

# ---- HTML ------------------------------------------------------------------------------
html_theme = "sphinx_book_theme"
html_static_path = ["_static"]
html_css_files = ["book.css"]
html_copy_source = False          # the lesson bar links the notebook itself
html_show_sourcelink = False
html_show_sphinx = False
html_last_updated_fmt = None
html_theme_options = {
    "repository_url": REPO_URL,
    "repository_branch": BRANCH,
    "path_to_docs": "",
    "use_repository_button": True,
    "use_download_button": False,     # the lesson bar has Download .ipynb
    "use_fullscreen_button": False,
    "launch_buttons": {},             # the lesson bar has Open in Colab
    "home_page_in_toc": True,
    "show_toc_level": 2,
    "show_navbar_depth": 1,
    "logo": {"text": "edgelab"},
    "navbar_persistent": [],          # search lives in the sidebar and the article header
    "article_header_end": ["edgelab-language-switch.html", "article-header-buttons.html"],
    "footer_content_items": ["copyright.html"],
}
# Light unless the reader switches: stored figures are drawn for a light background (and an
# unset mode makes the theme log a console error on a reader's first visit).
html_context = {"default_mode": "light"}
html_favicon = "_static/edgelab-icon.svg"
html_logo = "_static/edgelab-icon.svg"
