"""The book in a real browser: ``make book``'s site, served on 127.0.0.1, in headless Chromium.

The site is built here as ``make book`` builds it (``tools/book.py build``, every Sphinx
warning an error) into ``build/test-book/``, then every page is opened as a reader would:

- every page loads with no console error and loads nothing from another site;
- no internal link, anchor or image is broken;
- each lesson's "Open in Colab" button points at that lesson's notebook, and its download
  link gives the committed notebook;
- a search for a word that only the last lesson uses finds that lesson;
- a solution is hidden until its title is clicked, then shown;
- at 390 px wide no page scrolls sideways.

The Japanese edition (``ja/``) is read the same way: its pages load cleanly with
``lang="ja"``, the switch leads to the same page in English and back, a lesson not
translated yet is reached on its English page, and where a lesson is translated its Colab
button opens ``notebooks/ja/...`` and a Japanese search finds it.

A small book with two editions (English and a stand-in Japanese one, with a solution) is
built too: it proves the language switch on every page, the collapsed solutions, a
Japanese lesson's Colab button and a Japanese search even before ``edgelab.exercises`` has
solutions and ``notebooks/ja/`` a lesson to show. Screenshots of the landing page, a lesson
and the Japanese landing page go to ``build/test-artifacts/``.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import json
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from _chromium import CHROMIUM, CHROMIUM_ARGS

from edgelab.core import project

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "build" / "test-book"
ARTIFACTS = ROOT / "build" / "test-artifacts"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

_spec = importlib.util.spec_from_file_location("edgelab_tools_book", ROOT / "tools" / "book.py")
book = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = book
_spec.loader.exec_module(book)


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def site() -> Path:
    """The book, built as `make book` builds it (warnings fail), timed."""
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "tools/book.py", "build", "--out", str(SITE)],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, f"make book failed:\n{proc.stdout}\n{proc.stderr}"
    print(f"book built in {time.monotonic() - start:.0f} s")
    return SITE


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def serve():
    """serve(folder) -> its address on 127.0.0.1; every server stops with the module."""
    servers = []

    def start(folder: Path) -> str:
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(folder)))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def browser():
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"{CHROMIUM} not found: run `make browser` (installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                          args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()
    playwright.stop()


class Reader:
    """One browser tab that remembers what went wrong while a page loaded."""

    def __init__(self, browser, viewport):
        self.page = browser.new_page(viewport=viewport)
        self.problems: list[str] = []
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(
            f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        # net::ERR_ABORTED is the browser cancelling a request (the favicon of the page
        # just left, when the next one is opened), not a server failing to answer; a
        # missing file still shows as an HTTP 404 below, a missing image in broken()
        self.page.on("requestfailed", lambda r: "ERR_ABORTED" not in str(r.failure) and
                     self.problems.append(f"request failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(
            f"HTTP {r.status}: {r.url}"))

    def open(self, url: str) -> list[str]:
        self.problems = []
        self.page.goto(url, wait_until="load")
        self.page.wait_for_timeout(150)        # the theme's scripts finish
        return self.problems

    def close(self):
        self.page.close()


def pages(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.html")
                  if "_static" not in p.parts)


@functools.lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset[str]:
    return frozenset(re.findall(r'\s(?:id|name)="([^"]+)"', path.read_text(encoding="utf-8")))


_RESOURCES = """() => ({
  links: Array.from(document.querySelectorAll('a[href]')).map(a => a.href),
  images: Array.from(document.querySelectorAll('img')).map(i => ({src: i.currentSrc || i.src,
          ok: i.complete && i.naturalWidth > 0})),
  assets: Array.from(document.querySelectorAll('link[href], script[src], iframe[src]'))
          .map(e => e.href || e.src)
})"""


def broken(folder: Path, base: str, page_name: str, found: dict) -> list[str]:
    """The internal links, anchors and images of one page that lead nowhere, and any
    resource (image, script, style sheet) loaded from another site."""
    out = []
    for img in found["images"]:
        if not img["ok"]:
            out.append(f"image did not load: {img['src']}")
    for url in found["assets"] + [i["src"] for i in found["images"]]:
        if url.startswith(("http://", "https://")) and not url.startswith(base):
            out.append(f"loads from another site: {url}")
    for url in found["links"] + found["assets"] + [i["src"] for i in found["images"]]:
        if not url.startswith(base) or url.startswith("data:"):
            continue
        parts = urlsplit(url)
        path = unquote(parts.path).lstrip("/")
        target = folder / path
        if path == "" or path.endswith("/"):
            target = target / "index.html"
        if not target.is_file():
            out.append(f"{page_name}: broken link {url}")
        elif parts.fragment and target.suffix == ".html" and \
                unquote(parts.fragment) not in anchors(target):
            out.append(f"{page_name}: no anchor #{parts.fragment} in {path or 'index.html'}")
    return out


# ------------------------------------------------------------------------ the real book
def test_every_page_loads_cleanly_with_no_broken_link_or_image(site, serve, browser):
    base = serve(site)
    names = pages(site)
    assert "index.html" in names and "search.html" in names
    assert sum(n.startswith("notebooks/") for n in names) >= 8
    reader = Reader(browser, DESKTOP)
    problems = []
    try:
        for name in names:
            problems += [f"{name}: {p}" for p in reader.open(f"{base}/{name}")]
            problems += broken(site, base, name, reader.page.evaluate(_RESOURCES))
            if name in ("index.html", "ja/index.html"):
                ARTIFACTS.mkdir(parents=True, exist_ok=True)
                shot = "book-landing.png" if name == "index.html" else "book-landing-ja.png"
                reader.page.screenshot(path=str(ARTIFACTS / shot))
    finally:
        reader.close()
    assert problems == [], "\n".join(problems)


def test_each_lesson_links_its_own_notebook(site, serve, browser):
    base = serve(site)
    lessons = sorted((ROOT / "notebooks").glob("*.ipynb"))
    reader = Reader(browser, DESKTOP)
    try:
        for notebook in lessons:
            page = f"notebooks/{notebook.stem}.html"
            assert reader.open(f"{base}/{page}") == []
            colab = reader.page.locator("a.edgelab-colab")
            assert colab.count() == 1, page
            assert colab.get_attribute("href") == project.colab_url(f"notebooks/{notebook.name}")
            assert colab.is_visible()
            download = reader.page.locator("a.edgelab-download")
            href = download.evaluate("a => a.href")
            served = site / unquote(urlsplit(href).path).lstrip("/")
            assert served.read_bytes() == notebook.read_bytes(), f"{page}: download is not {notebook.name}"
            assert "Time, as recorded" in reader.page.locator(".edgelab-time").inner_text(), \
                f"{page}: no run of {notebook.name} is recorded (make record-run, then make docs)"
            assert reader.page.locator("img[src*='colab-badge']").count() == 0
            if notebook.name.startswith("03"):
                reader.page.screenshot(path=str(ARTIFACTS / "book-lesson-03.png"))
    finally:
        reader.close()


def unique_word(staged: Path, lesson: str) -> str:
    """A word of ``lesson``'s prose that no other page uses, not even in another form
    (no other source contains its stem)."""
    import snowballstemmer

    stem_of = snowballstemmer.stemmer("english").stemWord
    sources = {p: p.read_text(encoding="utf-8").lower() for p in staged.rglob("*")
               if p.is_file() and p.suffix in (".md", ".ipynb") and not p.name.startswith("_")}
    mine = staged / "notebooks" / f"{lesson}.ipynb"
    others = [text for path, text in sources.items() if path != mine]
    prose = " ".join("".join(c["source"]) for c in json.loads(mine.read_text())["cells"]
                     if c["cell_type"] == "markdown")
    for word in dict.fromkeys(w.lower() for w in re.findall(r"\b[A-Za-z]{7,}\b", prose)):
        stem = stem_of(word)
        if len(stem) >= 5 and not any(stem in text for text in others):
            return word
    pytest.fail(f"{lesson} uses no word that the other pages do not")


def test_search_finds_a_word_only_the_last_lesson_uses(site, serve, browser):
    last = sorted((ROOT / "notebooks").glob("*.ipynb"))[-1].stem
    word = unique_word(site.parent / f"{site.name}-src" / "en", last)
    base = serve(site)
    reader = Reader(browser, DESKTOP)
    try:
        assert reader.open(f"{base}/search.html?q={word}") == []
        reader.page.wait_for_function(
            "() => document.querySelector('#search-results .search-summary')?.textContent",
            timeout=30_000)
        hits = reader.page.eval_on_selector_all("#search-results ul.search li a",
                                                "links => links.map(a => a.href)")
        problems = reader.problems
    finally:
        reader.close()
    assert problems == []
    found = {urlsplit(h).path.lstrip("/") for h in hits}
    assert found == {f"notebooks/{last}.html"}, f"searching {word!r} found {found}"


def test_solutions_in_the_book_are_hidden_until_clicked(site, serve, browser):
    with_solutions = [p for p in pages(site)
                      if 'class="edgelab-solution"' in (site / p).read_text(encoding="utf-8")]
    if not with_solutions:
        pytest.skip("no lesson has solutions yet (edgelab.exercises provides none); "
                    "test_a_second_edition_and_collapsed_solutions checks the mechanism")
    base = serve(site)
    reader = Reader(browser, DESKTOP)
    try:
        reader.open(f"{base}/{with_solutions[0]}")
        assert_hidden_until_clicked(reader.page)
    finally:
        reader.close()


def test_no_page_scrolls_sideways_on_a_phone(site, serve, browser):
    base = serve(site)
    reader = Reader(browser, PHONE)
    wide = []
    try:
        for name in pages(site):
            reader.open(f"{base}/{name}")
            width = reader.page.evaluate("() => document.documentElement.scrollWidth")
            if width > PHONE["width"]:
                wide.append(f"{name}: {width} px")
            if name == "notebooks/03_gradcam.html":
                reader.page.screenshot(path=str(ARTIFACTS / "book-lesson-03-phone.png"))
    finally:
        reader.close()
    assert wide == [], f"pages wider than {PHONE['width']} px: {wide}"


# ------------------------------------------------------------- the Japanese edition
def switch_to(reader: Reader, code: str) -> str:
    """Click the language switch's link to ``code``; the path of the page it leads to."""
    reader.page.locator(f"nav.edgelab-languages a[hreflang='{code}']").click()
    reader.page.wait_for_load_state("load")
    reader.page.wait_for_timeout(150)
    return urlsplit(reader.page.url).path


def japanese_word(staged: Path, lesson: str) -> str | None:
    """A word of ``lesson``'s Japanese prose, as Sphinx's Japanese search cuts it, that no
    other Japanese page contains."""
    from sphinx.search.ja import DefaultSplitter

    split = DefaultSplitter({}).split
    sources = {p: p.read_text(encoding="utf-8") for p in staged.rglob("*")
               if p.is_file() and p.suffix in (".md", ".ipynb") and not p.name.startswith("_")}
    mine = staged / "notebooks" / f"{lesson}.ipynb"
    others = [text for path, text in sources.items() if path != mine]
    text = "\n".join("".join(c["source"]) for c in json.loads(mine.read_text(encoding="utf-8"))["cells"]
                     if c["cell_type"] == "markdown")
    # headings are left out: other pages list a lesson by its title (a toctree)
    prose = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    headings = "\n".join(line for line in text.splitlines() if line.lstrip().startswith("#"))
    for word in dict.fromkeys(split(prose)):
        if word in headings:
            continue
        if re.fullmatch(r"[\u3040-\u30ff\u4e00-\u9fff]{3,}", word) and \
                re.search(r"[\u30a0-\u30ff\u4e00-\u9fff]", word) and not any(word in t for t in others):
            return word
    return None


def search_hits(reader: Reader, url: str) -> set[str]:
    assert reader.open(url) == []
    reader.page.wait_for_function(
        "() => document.querySelector('#search-results .search-summary')?.textContent",
        timeout=30_000)
    hits = reader.page.eval_on_selector_all("#search-results ul.search li a",
                                            "links => links.map(a => a.href)")
    assert reader.problems == []
    return {urlsplit(h).path.lstrip("/") for h in hits}


def test_the_japanese_edition(site, serve, browser):
    """Landing page and teacher's notes in Japanese, the switch both ways, every lesson
    reachable (its own page, or the English one until it is translated); a translated
    lesson's Colab button and a Japanese search."""
    ja = book.editions()[1]
    assert ja.code == "ja" and (site / "ja" / "index.html").is_file()
    translated = sorted(p.stem for p in ja.notebook_paths())
    base = serve(site)
    reader = Reader(browser, DESKTOP)
    try:
        assert reader.open(f"{base}/index.html") == []
        assert switch_to(reader, "ja") == "/ja/index.html"
        assert reader.page.locator("html").get_attribute("lang") == "ja"
        assert reader.problems == []
        assert switch_to(reader, "en") == "/index.html"
        assert reader.page.locator("html").get_attribute("lang") == "en"
        # the landing page reaches every lesson: its Japanese page or, not translated yet,
        # the English one, marked as such
        reader.open(f"{base}/ja/index.html")
        links = reader.page.eval_on_selector_all("article table a", "as => as.map(a => a.href)")
        for notebook in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
            own = f"{base}/ja/notebooks/{notebook.stem}.html"
            english = f"{base}/notebooks/{notebook.stem}.html"
            assert (own if notebook.stem in translated else english) in links, notebook.stem
        # the teacher's notes, and the switch from one of them and back
        reader.open(f"{base}/ja/teaching/03_gradcam.html")
        assert reader.page.locator("html").get_attribute("lang") == "ja"
        assert reader.page.locator("article h1").first.inner_text().startswith("講師用ノート")
        assert switch_to(reader, "en") == "/teaching/03_gradcam.html"
        assert switch_to(reader, "ja") == "/ja/teaching/03_gradcam.html"
        # an English lesson with no Japanese page: the switch leads to the Japanese landing
        # page and says why
        missing = [n.stem for n in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
                   if n.stem not in translated]
        if missing:
            reader.open(f"{base}/notebooks/{missing[0]}.html")
            link = reader.page.locator("nav.edgelab-languages a[hreflang='ja']")
            assert link.get_attribute("title"), "the switch does not say the page is missing"
            assert switch_to(reader, "ja") == "/ja/index.html"
        for stem in translated:
            page = f"ja/notebooks/{stem}.html"
            assert reader.open(f"{base}/{page}") == []
            assert reader.page.locator("html").get_attribute("lang") == "ja"
            colab = reader.page.locator("a.edgelab-colab")
            assert colab.get_attribute("href") == project.colab_url(f"notebooks/ja/{stem}.ipynb"), page
            assert switch_to(reader, "en") == f"/notebooks/{stem}.html"
            assert switch_to(reader, "ja") == f"/{page}"
        if translated:
            reader.page.screenshot(path=str(ARTIFACTS / "book-lesson-ja.png"))
            word = japanese_word(site.parent / f"{site.name}-src" / "ja", translated[-1])
            if word is not None:
                found = search_hits(reader, f"{base}/ja/search.html?q={word}")
                assert f"ja/notebooks/{translated[-1]}.html" in found, f"searching {word!r} found {found}"
    finally:
        reader.close()


def assert_hidden_until_clicked(page) -> None:
    solution = page.locator("details.edgelab-solution").first
    body = solution.locator(".edgelab-solution-body")
    solution.scroll_into_view_if_needed()
    assert solution.is_visible() and not body.is_visible(), "the solution shows before a click"
    solution.locator("summary").click()
    body.wait_for(state="visible", timeout=5_000)
    assert body.inner_text().strip()


# ------------------------------------------------------ two editions: the language switch
MINI_NOTEBOOK = {
    "cells": [
        {"cell_type": "markdown", "id": "head", "metadata": {}, "source":
            "# 01 · A lesson\n\n[![Open In Colab](https://colab.research.google.com/assets/"
            "colab-badge.svg)](https://colab.research.google.com/github/x/y/blob/main/"
            "notebooks/01_lesson.ipynb)\n\nWhat it teaches; [the end](#Exercises); "
            "[its test](../tests/test_book_browser.py)."},
        {"cell_type": "code", "id": "code", "execution_count": 1, "metadata": {},
         "source": "print(6 * 7)",
         "outputs": [{"output_type": "stream", "name": "stdout", "text": "42\n"}]},
        {"cell_type": "markdown", "id": "exercises", "metadata": {},
         "source": "## Exercises\n\n1. Print 43. Then [the next lesson](02_more.ipynb)."},
    ],
    "metadata": {"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                "name": "python3"}},
    "nbformat": 4, "nbformat_minor": 5,
}


@pytest.fixture(scope="module")
def two_editions(tmp_path_factory) -> Path:
    """An English and a Japanese edition of a one-lesson book, each with a solution."""
    root = tmp_path_factory.mktemp("two-editions")
    # the Japanese notebooks lie in notebooks/ja/, as in the repository
    folders = {"en": root / "en" / "notebooks", "ja": root / "ja" / "notebooks" / "ja"}
    for code, title in (("en", "A lesson"), ("ja", "レッスン")):
        (root / code / "pages").mkdir(parents=True)
        folders[code].mkdir(parents=True)
        (root / code / "pages" / "index.md").write_text(
            f"# {'Home' if code == 'en' else 'ホーム'}\n\nSee [the Makefile](../Makefile).\n\n"
            "```{teaching-notes}\n```\n\n"
            "```{toctree}\n:glob:\n\nnotebooks/*\nteaching/index\n```\n", encoding="utf-8")
        nb = json.loads(json.dumps(MINI_NOTEBOOK))
        nb["cells"][0]["source"] = nb["cells"][0]["source"].replace("A lesson", title)
        if code == "ja":       # as tools/translations.py writes it, with prose of its own
            nb["cells"][0]["source"] = nb["cells"][0]["source"].replace(
                "notebooks/01_lesson.ipynb", "notebooks/ja/01_lesson.ipynb").replace(
                "](../tests/", "](../../tests/") + \
                "\n\n深層学習の量子化について、畳み込み層を中心に説明します。"
        (folders[code] / "01_lesson.ipynb").write_text(json.dumps(nb, ensure_ascii=False),
                                                      encoding="utf-8")
    # a second lesson in English only: the Japanese lesson's link to it leads to its
    # English page
    second = json.loads(json.dumps(MINI_NOTEBOOK))
    second["cells"] = [{"cell_type": "markdown", "id": "head", "metadata": {},
                        "source": "# 02 · More\n\nIn English only."}]
    (folders["en"] / "02_more.ipynb").write_text(json.dumps(second), encoding="utf-8")
    (root / "teaching").mkdir()
    (root / "teaching" / "01_lesson.md").write_text(
        "# Teaching lesson 01\n\nThe learners open [the lesson](../notebooks/01_lesson.ipynb).\n")
    (root / "teaching" / "timetable.md").write_text("# Timetable\n\n09:00 lesson 01.\n")
    labels = (ROOT / "book" / "editions.toml").read_text(encoding="utf-8").split(
        "[en.labels]", 1)[1].split("\n[ja]", 1)[0]
    (root / "editions.toml").write_text(
        f'[en]\nlabel = "English"\npages = "{root}/en/pages"\nnotebooks = "{root}/en/notebooks/*.ipynb"\n'
        f'teaching = "{root}/teaching/*.md"\nsite = ""\n[en.labels]{labels}\n'
        f'[ja]\nlabel = "日本語"\npages = "{root}/ja/pages"\nnotebooks = "{root}/ja/notebooks/ja/*.ipynb"\n'
        f'teaching = "{root}/none/*.md"\nsite = "ja/"\n[ja.labels]\ncolab = "Colab で開く"\n',
        encoding="utf-8")
    out = root / "site"
    solution = [{"title": "Exercise 1", "markdown": "```python\nprint(43)\n```"}]
    assert book.build(out, config=root / "editions.toml", solutions_of=lambda stem, lang: solution if stem == "01_lesson" else []) == 0
    return out


def test_a_second_edition_and_collapsed_solutions(two_editions, serve, browser):
    base = serve(two_editions)
    names = pages(two_editions)
    assert "ja/notebooks/01_lesson.html" in names and "notebooks/01_lesson.html" in names
    reader = Reader(browser, PHONE)
    try:
        for name in names:
            assert reader.open(f"{base}/{name}") == [], name
            assert broken(two_editions, base, name, reader.page.evaluate(_RESOURCES)) == []
            switch = reader.page.locator("nav.edgelab-languages")
            assert switch.count() == 1, f"{name}: no language switch"
            other = "en" if name.startswith("ja/") else "ja"
            link = switch.locator(f"a[hreflang='{other}']")
            assert link.count() == 1, f"{name}: no link to the {other} edition"
        # links to repository files outside the book lead to them on GitHub; the landing page
        # lists the teacher's notes, the timetable first, as the teachers' page does
        reader.open(f"{base}/index.html")
        notes = reader.page.locator("article li a").all_inner_texts()
        assert notes[:2] == ["Timetable", "Teaching lesson 01"], notes
        reader.open(f"{base}/teaching/index.html")
        assert reader.page.locator("article li a").all_inner_texts()[:2] == notes[:2]
        reader.open(f"{base}/ja/index.html")
        assert "teaching-notes" not in reader.page.content()
        assert reader.page.locator(f"a[href='{project.github_path('Makefile')}']").count() == 1
        # English lesson -> the same lesson in Japanese, and back
        reader.open(f"{base}/notebooks/01_lesson.html")
        assert reader.page.locator(
            f"a[href='{project.github_path('tests/test_book_browser.py')}']").count() == 1
        assert reader.page.locator("article a:not(.headerlink)[href='#exercises']").count() == 1   # Jupyter's #Exercises
        reader.page.locator("nav.edgelab-languages a[hreflang='ja']").click()
        reader.page.wait_for_load_state("load")
        assert urlsplit(reader.page.url).path == "/ja/notebooks/01_lesson.html"
        assert reader.page.locator("html").get_attribute("lang") == "ja"
        assert reader.page.locator("a.edgelab-colab").inner_text() == "Colab で開く"
        assert reader.page.locator("a.edgelab-colab").get_attribute("href") == \
            project.colab_url("notebooks/ja/01_lesson.ipynb")
        assert_hidden_until_clicked(reader.page)
        # its link to a lesson not translated: the English page
        reader.page.locator("article a", has_text="the next lesson").click()
        reader.page.wait_for_load_state("load")
        assert urlsplit(reader.page.url).path == "/notebooks/02_more.html"
        reader.page.go_back()
        reader.page.wait_for_load_state("load")
        reader.page.locator("nav.edgelab-languages a[hreflang='en']").click()
        reader.page.wait_for_load_state("load")
        assert urlsplit(reader.page.url).path == "/notebooks/01_lesson.html"
        assert reader.page.locator("html").get_attribute("lang") == "en"
        # an English page the Japanese edition lacks: its switch says so and leads home
        reader.open(f"{base}/notebooks/02_more.html")
        assert reader.page.locator("nav.edgelab-languages a[hreflang='ja']").get_attribute("href") \
            == "../ja/index.html"
        # a Japanese search finds the Japanese lesson
        word = japanese_word(two_editions.parent / f"{two_editions.name}-src" / "ja", "01_lesson")
        assert word is not None
        assert search_hits(reader, f"{base}/ja/search.html?q={word}") == {"ja/notebooks/01_lesson.html"}
    finally:
        reader.close()


# ------------------------------------------------------------- the extension's own rules
def test_jupyter_style_links_become_the_books_anchors():
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    try:
        import edgelab_book
    finally:
        sys.path.remove(str(ROOT / "book" / "_ext"))
    text = "see [the last section](#Where-this-lesson-departs-from-its-source) and [x](#Exercises)"
    assert edgelab_book.book_anchors(text) == (
        "see [the last section](#where-this-lesson-departs-from-its-source) and [x](#exercises)")
    assert edgelab_book.book_anchors("[web](https://example.org/#Top)") == "[web](https://example.org/#Top)"
