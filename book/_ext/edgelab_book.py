"""The edgelab book's Sphinx extension: what a lesson page adds to its notebook.

``tools/book.py`` stages one edition (language) of the book into a folder and writes
``_book.json`` beside the staged sources: the editions, the interface words of this one,
and for each lesson page the notebook's path in the repository, the time its recorded
runs took and its exercises' solutions. This extension reads that file and

- replaces the notebook's own "Open in Colab" badge (an image on Google's server, which a
  reader offline cannot load) with the lesson bar: Open in Colab, Download .ipynb, View on
  GitHub and the recorded time;
- adds the solutions after the notebook's exercises, each collapsed in a ``<details>``
  element until the reader opens it (no JavaScript needed);
- puts a language switch in every page's header once the book has a second edition;
- copies each lesson's notebook next to its page, for the download link;
- fills the messages Sphinx's catalog of a language leaves empty on the search page;
- turns a page's relative link to a repository file into a link to the page the book
  makes of it, in this edition or another (a Japanese teacher's note links
  ``../../notebooks/ja/03_gradcam.ipynb``, or ``../../notebooks/03_gradcam.ipynb`` while
  that lesson is English only), and a link to a file that is no page
  (``../tests/test_explain.py``, ``../Makefile``) into a link to that file on GitHub, so a
  notebook or a teacher's note links the same files in the book as in the repository. A
  link to a page that this edition lacks (a translated notebook linking a lesson that is
  not translated yet) leads to that page in the English edition.

The notebooks themselves are never changed: all of this happens to the text Sphinx reads.
A notebook's links to its own headings are written the way Jupyter names them
(``#Where-this-lesson-departs-from-its-source``); they are turned into the anchors the book
gives headings (GitHub's: ``#where-this-lesson-departs-from-its-source``).
"""

from __future__ import annotations

import html
import json
import posixpath
import re
import shutil
from pathlib import Path

from docutils import nodes
from sphinx import addnodes
from sphinx.util.docutils import SphinxDirective

BADGE_RE = re.compile(r"\[!\[[^\]]*\]\(https://colab\.research\.google\.com/assets/"
                      r"colab-badge\.svg\)\]\((?P<url>[^)]+)\)")       # any alt text
# A link to a page of another edition: myst keeps a URL of this scheme as it is (conf.py),
# and ``other_edition_links`` drops the scheme once the page is resolved.
OTHER_EDITION = "edgelab-page:"
EXERCISES_RE = re.compile(r"^##\s+(Exercises|演習)\b", re.M)


RELATIVE_LINK_RE = re.compile(r"\]\((?P<target>[^)\s#<>]+)(?P<fragment>#[^)\s]*)?\)")
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".svg", ".webp")
LOCAL_LINK_RE = re.compile(r"\]\(#(?P<anchor>[^)\s]+)\)")


def book_anchors(markdown: str) -> str:
    """``](#Jupyter-Anchor)`` -> ``](#github-anchor)``. Jupyter's anchor is the heading's
    text with spaces as hyphens; GitHub's slug of that equals GitHub's slug of the text."""
    from myst_parser.slugs import github_slugify

    return LOCAL_LINK_RE.sub(lambda m: f"](#{github_slugify(m['anchor'])})", markdown)


# ------------------------------------------------------------------------ the book's facts
def book(app) -> dict:
    """``_book.json`` of the staged sources (read once per build)."""
    if not hasattr(app, "_edgelab_book"):
        path = Path(app.srcdir) / "_book.json"
        app._edgelab_book = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {
            "edition": {"code": "en", "labels": {}}, "editions": [], "lessons": {}}
    return app._edgelab_book


def label(app, key: str, default: str) -> str:
    return book(app)["edition"].get("labels", {}).get(key, default)


def _pages_by_source(info: dict) -> dict[str, tuple[dict, str]]:
    """repository file -> (edition, staged file) for the pages of every edition, this
    edition's first."""
    here = info["edition"]["code"]
    ordered = sorted(info.get("editions", []), key=lambda e: e["code"] != here)
    found: dict[str, tuple[dict, str]] = {}
    for edition in ordered:
        for staged, source in edition.get("sources", {}).items():
            found.setdefault(source, (edition, staged))
    return found


def _other_edition_url(info: dict, docname: str, edition: dict, staged: str, fragment: str) -> str:
    up = "../" * (docname.count("/") + info["edition"]["site"].count("/"))
    page = staged.rsplit(".", 1)[0]
    return f"{OTHER_EDITION}{up}{edition['site']}{page}.html{fragment}"


def repository_links(app, docname: str, markdown: str) -> str:
    """Relative links to repository files: to the page the book makes of it (in this edition
    or another), else to the file on GitHub; links to a page this edition lacks: to the
    first edition's."""
    info = book(app)
    here = info.get("sources", {}).get(docname)
    repo = info.get("repository")
    if not here or not repo:
        return markdown
    srcdir = Path(app.srcdir).resolve()
    code = info["edition"]["code"]
    by_source = _pages_by_source(info)

    def fix(match):
        target, fragment = match["target"], match["fragment"] or ""
        if re.match(r"^[A-Za-z][A-Za-z0-9+.-]*:", target) or target.startswith("/") \
                or target.lower().endswith(IMAGE_SUFFIXES):
            return match.group(0)
        staged = (srcdir / docname).parent / target
        inside = staged.resolve().is_relative_to(srcdir)
        if inside and staged.exists():
            return match.group(0)                      # a page or file of the book
        in_repo = posixpath.normpath(posixpath.join(posixpath.dirname(here), target))
        if in_repo in by_source:                       # a page of this edition or another
            edition, name = by_source[in_repo]
            if edition["code"] == code:
                rel = posixpath.relpath(name, posixpath.dirname(docname) or ".")
                return f"]({rel}{fragment})"
            return f"]({_other_edition_url(info, docname, edition, name, fragment)})"
        if inside and target.endswith((".md", ".ipynb")):    # a page this edition lacks
            name = staged.resolve().relative_to(srcdir).as_posix()
            for edition in info.get("editions", []):
                if edition["code"] != code and name in edition.get("sources", {}):
                    return f"]({_other_edition_url(info, docname, edition, name, fragment)})"
        where = Path(repo["root"]) / in_repo
        if in_repo.startswith("..") or not where.exists():
            return match.group(0)                      # Sphinx says it is broken
        kind = "tree" if where.is_dir() else "blob"
        return f"]({repo['url']}/{kind}/{repo['branch']}/{in_repo}{fragment})"

    return RELATIVE_LINK_RE.sub(fix, markdown)


def other_edition_links(app, doctree, docname) -> None:
    """``doctree-resolved``: a link to another edition's page loses its marking scheme."""
    for ref in doctree.findall(nodes.reference):
        uri = ref.get("refuri", "")
        if uri.startswith(OTHER_EDITION):
            ref["refuri"] = uri[len(OTHER_EDITION):]


LESSON_TOCTREE_RE = re.compile(r"^```\{toctree\}\n(?::[^\n]*\n)*\s*\nnotebooks/\*\n```\n?", re.M)


def rewrite_page_links(app, docname: str, source: list[str]) -> None:
    """``source-read`` for Markdown pages: repository links (notebooks: rewrite_lesson).
    An edition with no lesson of its own yet (none translated) drops its landing page's
    lesson toctree, a glob that would match nothing."""
    if docname in book(app)["lessons"] or not str(app.env.doc2path(docname)).endswith(".md"):
        return
    if docname == book(app)["edition"].get("root_doc", "index") and not book(app)["lessons"]:
        source[0] = LESSON_TOCTREE_RE.sub("", source[0])
    source[0] = repository_links(app, docname, source[0])


# ---------------------------------------------------------------- the lesson page's text
def lesson_bar(app, docname: str, lesson: dict) -> str:
    """The raw HTML block under a lesson's title (one block: no blank line inside)."""
    e = html.escape
    name = Path(lesson["repo_path"]).name
    parts = [
        f'<a class="edgelab-button edgelab-colab" href="{e(lesson["colab_url"])}">'
        f'{e(label(app, "colab", "Open in Colab"))}</a>',
        f'<a class="edgelab-button edgelab-download" href="{e(name)}" download>'
        f'{e(label(app, "download", "Download .ipynb"))}</a>',
        f'<a class="edgelab-button edgelab-github" href="{e(lesson["github_url"])}">'
        f'{e(label(app, "github", "View on GitHub"))}</a>',
    ]
    if lesson.get("time"):
        parts.append(f'<span class="edgelab-time">{e(lesson["time"])}</span>')
    return '<div class="edgelab-lesson-bar">\n' + "\n".join(parts) + "\n</div>"


def solutions_cells(app, lesson: dict) -> list[dict]:
    """Markdown cells with one collapsed block per solution (none: no cells)."""
    solutions = lesson.get("solutions") or []
    if not solutions:
        return []
    cells = [f"### {label(app, 'solutions', 'Solutions')}\n\n"
             + label(app, "solutions_intro", "Try each exercise first; open a solution to "
                     "compare.")]
    for each in solutions:
        body = each["markdown"].rstrip()
        fence = "`" * max(4, 1 + max((len(m) for m in re.findall(r"`{3,}", body)), default=0))
        cells.append(f"{fence}{{solution}} {each['title']}\n{body}\n{fence}")
    return [{"cell_type": "markdown", "id": f"edgelab-solutions-{i}", "metadata": {},
             "source": text} for i, text in enumerate(cells)]


def _exercises_end(cells: list[dict]) -> int:
    """Where the Exercises section ends: before the next ``#``/``##`` heading, or at the end."""
    start = None
    for i, cell in enumerate(cells):
        text = "".join(cell.get("source", "")) if cell["cell_type"] == "markdown" else ""
        if start is None:
            if EXERCISES_RE.search(text):
                start = i
        elif re.match(r"#{1,2}\s", text.lstrip()):
            return i
    return len(cells)


def rewrite_lesson(app, docname: str, source: list[str]) -> None:
    """``source-read``: the lesson bar in place of the badge, the solutions after the exercises."""
    lesson = book(app)["lessons"].get(docname)
    if lesson is None:
        return
    nb = json.loads(source[0])
    cells = nb["cells"]
    header = cells[0]
    text = "".join(header["source"])
    bar = lesson_bar(app, docname, lesson)
    if BADGE_RE.search(text):
        text = BADGE_RE.sub(lambda _: "\n" + bar + "\n", text, count=1)
    else:              # no badge: the bar goes right under the title line
        title, _, rest = text.partition("\n")
        text = f"{title}\n\n{bar}\n\n{rest}"
    header["source"] = text
    for cell in cells:
        if cell["cell_type"] == "markdown":
            cell["source"] = repository_links(app, docname, book_anchors("".join(cell["source"])))
    extra = solutions_cells(app, lesson)
    if extra:
        at = _exercises_end(cells)
        cells[at:at] = extra
    source[0] = json.dumps(nb)


# ------------------------------------------------------------------- collapsed solutions
class solution(nodes.General, nodes.Element):
    """A solution: ``<details><summary>title</summary>...</details>``."""


class SolutionDirective(SphinxDirective):
    has_content = True
    optional_arguments = 1
    final_argument_whitespace = True

    def run(self):
        node = solution()
        node["title"] = self.arguments[0] if self.arguments else "Solution"
        self.set_source_info(node)
        self.state.nested_parse(self.content, self.content_offset, node)
        return [node]


def visit_solution_html(self, node):
    self.body.append('<details class="edgelab-solution">'
                     f'<summary>{html.escape(node["title"])}</summary>\n'
                     '<div class="edgelab-solution-body">\n')


def depart_solution_html(self, node):
    self.body.append("</div></details>\n")


# ------------------------------------------------------------------- the teacher's notes
def teaching_docs(found_docs) -> list[str]:
    """The teacher's notes in the book, the timetable first."""
    docs = [d for d in found_docs if d.startswith("teaching/") and d != "teaching/index"]
    return sorted(docs, key=lambda d: (not d.rsplit("/", 1)[-1].lower().startswith("timetable"), d))


class TeachingNotesDirective(SphinxDirective):
    """```{teaching-notes}```: a list of links to every teacher's note, by its title."""

    def run(self):
        docs = teaching_docs(self.env.found_docs)
        self.env.edgelab_teaching_users = getattr(self.env, "edgelab_teaching_users", set())
        self.env.edgelab_teaching_users.add(self.env.docname)
        if not docs:
            return [nodes.paragraph(text=label(self.env.app, "teaching_none",
                                               "The teacher's notes are being written."))]
        items = nodes.bullet_list()
        for doc in docs:
            ref = addnodes.pending_xref("", refdomain="std", reftype="doc", reftarget=f"/{doc}",
                                        refexplicit=False, refwarn=True, refdoc=self.env.docname)
            ref += nodes.inline("", doc)
            para = nodes.paragraph()
            para += ref
            item = nodes.list_item()
            item += para
            items += item
        return [items]


def reread_teaching_lists(app, env, added, changed, removed):
    """``env-get-outdated``: pages listing the notes are re-read (notes come and go)."""
    return sorted(getattr(env, "edgelab_teaching_users", set()) - set(removed))


# ------------------------------------------------------------------------- every page
def page_context(app, pagename, templatename, context, doctree):
    """The language switch's links (same page in each edition, else its landing page)."""
    info = book(app)
    here = info["edition"]
    editions = info.get("editions", [])
    links = []
    if len(editions) > 1:
        depth = pagename.count("/") + here["site"].count("/")
        up = "../" * depth
        for edition in editions:
            has = pagename in edition["pages"]
            target = pagename if has else edition["root_doc"]
            links.append({"code": edition["code"], "label": edition["label"],
                          "current": edition["code"] == here["code"],
                          "title": "" if has else edition.get("missing", ""),
                          "url": f"{up}{edition['site']}{target}.html"})
    context["edgelab_languages"] = links
    context["edgelab_language_label"] = label(app, "language", "Language")


def copy_notebooks(app, exception):
    """``build-finished``: each lesson's notebook next to its page, for the download link."""
    if exception is not None or app.builder.format != "html":
        return
    for docname in book(app)["lessons"]:
        src = Path(app.srcdir) / f"{docname}.ipynb"
        dest = Path(app.outdir) / f"{docname}.ipynb"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)


# Messages that Sphinx's own catalog of a language leaves empty, so that its search page
# would show a blank line where it says what it found (Sphinx 9's Japanese catalog has ""
# for the plural message below): our translation, or, for a message not listed here, the
# English (the empty entry is dropped).
SEARCH_MESSAGES = {
    "ja": {"Search finished, found one page matching the search query.":
           "検索が完了しました。検索語に一致するページが ${resultCount} 件見つかりました。"},
}


def fill_empty_translations(app, exception):
    """``build-finished``: no empty message in ``_static/translations.js``."""
    if exception is not None or app.builder.format != "html":
        return
    path = Path(app.outdir) / "_static" / "translations.js"
    if not path.is_file():
        return
    text = path.read_text(encoding="utf-8")
    m = re.match(r"^Documentation\.addTranslations\((?P<json>.*)\);\s*$", text, re.S)
    if m is None:
        return
    catalog = json.loads(m["json"])
    fixes = SEARCH_MESSAGES.get(catalog.get("locale", ""), {})
    messages = catalog.get("messages", {})
    for key, value in list(messages.items()):
        empty = value == "" if isinstance(value, str) else any(v == "" for v in value)
        if empty and key in fixes:
            messages[key] = [fixes[key]] if isinstance(value, list) else fixes[key]
        elif empty and isinstance(value, list):
            del messages[key]
    path.write_text(f"Documentation.addTranslations({json.dumps(catalog, indent=4)});\n",
                    encoding="utf-8")


def setup(app):
    # tools/book.py passes the digest of _book.json: a change re-reads every page
    app.add_config_value("edgelab_book_digest", "", "env")
    app.add_node(solution, html=(visit_solution_html, depart_solution_html))
    app.add_directive("solution", SolutionDirective)
    app.add_directive("teaching-notes", TeachingNotesDirective)
    app.connect("env-get-outdated", reread_teaching_lists)
    app.connect("source-read", rewrite_lesson)
    app.connect("source-read", rewrite_page_links)
    app.connect("html-page-context", page_context)
    app.connect("doctree-resolved", other_edition_links)
    app.connect("build-finished", copy_notebooks)
    app.connect("build-finished", fill_empty_translations)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
