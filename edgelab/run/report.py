"""The run's two reports: ``report.md`` (short, for a terminal or a diff) and ``report.html``
(for a person: open it from disk, no server).

The HTML report has one section per notebook: its status (a failed or timed-out cell
named, with the limit that applied), wall time against the plan's estimate, peak memory,
the time of each ``##`` section, the figures it recorded, and every plot it produced as a
thumbnail. ``report.md`` has the same per-section tables under its summary. Each plot and each
notebook title links to the executed notebook, rendered to HTML next to it
(``notebooks/NN_name.html``, at the cell that made the plot), or to the ``.ipynb`` where
nbconvert is not installed. Plots are written once as files under ``figures/``; the page
refers to them by relative paths, so the run folder can be moved or zipped whole.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import os
from pathlib import Path

from edgelab.core import machine, results
from edgelab.core.atomic import atomic_write
from edgelab.core.project import VERSION

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/svg+xml": "svg"}


def figures_by_notebook(rows: list[dict]) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for (key, _), row in results.latest(rows).items():
        out.setdefault(row.get("source", ""), {})[key] = (row["value"], row.get("unit", ""))
    return out


def status_text(run, markdown: bool = True) -> str:
    if run.status == "ok":
        return "ok"
    if run.status == "timeout":
        word, rest = "TIMED OUT", f"ran past its limit of {run.timeout_rule}"
    else:
        word, rest = "FAILED", run.error
    where = f" at cell {run.failed_cell}" if run.failed_cell is not None else ""
    rest = rest.replace("|", "/")
    return f"**{word}**{where}: {rest}" if markdown else f"{word}{where}: {rest}"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _estimate_text(run) -> str:
    return "-" if run.estimate_minutes is None else _minutes(run.estimate_minutes * 60)


def section_rows(run) -> list[tuple[str, str, str, str]]:
    """(section, code cells, wall time, share of the notebook) for each ``##`` section of
    a run, from the per-cell times (:mod:`edgelab.run.sections`); empty for old runs."""
    timed = [s for s in getattr(run, "sections", None) or [] if s.get("seconds") is not None]
    whole = sum(s["seconds"] for s in timed) or 0.0
    rows = []
    for s in getattr(run, "sections", None) or []:
        seconds = s.get("seconds")
        rows.append((s["title"],
                     str(s.get("code_cells", "")),
                     "not run" if seconds is None else _seconds(seconds),
                     "" if seconds is None or not whole else f"{100 * seconds / whole:.0f}%"))
    return rows


def _seconds(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def write_markdown(out: Path, runs: list, profile: str, total_seconds: float,
                   plan_lines: list[str] | None = None) -> Path:
    figures = figures_by_notebook(results.load(out / "results.jsonl"))
    ok = sum(r.status == "ok" for r in runs)
    lines = [
        f"# edgelab run: {ok}/{len(runs)} notebooks ok",
        "",
        f"- profile: **{profile}**; edgelab {VERSION}",
        f"- machine: {machine.hardware_line()}",
        f"- finished: {_dt.datetime.now(_dt.timezone.utc).isoformat(timespec='seconds')}",
        f"- total wall time: {total_seconds / 60:.1f} min",
        "- the same, with every plot: `report.html` (opens from disk)",
        "",
        "| notebook | status | wall time | estimate | peak memory | key figures |",
        "|---|---|---:|---:|---:|---|",
    ]
    for r in runs:
        figs = figures.get(Path(r.notebook).stem, {})
        fig_text = "; ".join(f"`{k}` = {results._fmt(v)}{(' ' + u) if u else ''}"
                             for k, (v, u) in sorted(figs.items())) or "-"
        lines.append(f"| {r.notebook} | {status_text(r)} | {_minutes(r.seconds)} | "
                     f"{_estimate_text(r)} | {r.peak_rss_mb:,.0f} MB | {fig_text} |")
    lines += ["", "Executed notebooks are in `notebooks/`, everything they wrote in `outputs/`,",
              "and every recorded figure (with machine and time) in `results.jsonl`."]
    timed = [r for r in runs if section_rows(r)]
    if timed:
        lines += ["", "## Time per section", "",
                  "Each `##` section's code cells, their summed wall time and their share of "
                  "the notebook's cell time (the rest of the wall time is the kernel starting).",
                  ""]
        for r in timed:
            lines += [f"### {r.notebook}", "", "| section | code cells | time | share |",
                      "|---|---:|---:|---:|"]
            lines += [f"| {t.replace('|', '/')} | {c} | {w} | {p} |"
                      for t, c, w, p in section_rows(r)]
            lines.append("")
    if plan_lines:
        lines += ["", "The plan printed before the run:", "", "```text", *plan_lines, "```"]
    report = out / "report.md"
    with atomic_write(report, encoding="utf-8") as handle:
        handle.write("\n".join(lines) + "\n")
    return report


def extract_images(notebook: Path, folder: Path) -> list[tuple[Path, str | None]]:
    """Write every image output of ``notebook`` into ``folder``; (file, cell id) for each."""
    import nbformat

    try:
        nb = nbformat.read(notebook, as_version=4)
    except (OSError, ValueError):
        return []
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.iterdir():          # a re-run replaces the plots of the last one
        if old.is_file():
            old.unlink()
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        k = 0
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for mime, ext in IMAGE_TYPES.items():
                if mime not in data:
                    continue
                k += 1
                target = folder / f"cell{index:02d}-{k}.{ext}"
                payload = data[mime]
                payload = "".join(payload) if isinstance(payload, list) else payload
                if ext == "svg":
                    target.write_text(payload, encoding="utf-8")
                else:
                    target.write_bytes(base64.b64decode(payload))
                found.append((target, cell.get("id")))
                break
    return found


def render_notebook_html(notebook: Path, target: Path) -> bool:
    """The executed notebook as a standalone HTML page; False if nbconvert is missing."""
    try:
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError:
        return False
    try:
        body, _ = HTMLExporter().from_notebook_node(nbformat.read(notebook, as_version=4))
    except Exception:  # noqa: BLE001 - a notebook that cannot be rendered keeps its .ipynb link
        return False
    with atomic_write(target, encoding="utf-8") as handle:
        handle.write(body)
    return True


_CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
table { border-collapse: collapse; margin: 1em 0; }
td, th { border: 1px solid #ccc; padding: .3em .6em; text-align: left; vertical-align: top; }
td.num { text-align: right; }
.ok { color: #1a7f37; font-weight: bold; } .bad { color: #cf222e; font-weight: bold; }
.plots { display: flex; flex-wrap: wrap; gap: .5em; }
.plots img { max-width: 22em; max-height: 16em; border: 1px solid #ddd; }
section { border-top: 2px solid #eee; margin-top: 1.5em; }
pre { background: #f6f8fa; padding: .8em; overflow-x: auto; }
"""


def write_html(out: Path, runs: list, profile: str, total_seconds: float,
               executed: dict[str, Path], plan_lines: list[str] | None = None) -> Path:
    """``report.html`` in ``out`` (see the module docstring). ``executed``: notebook file
    name -> the executed notebook."""
    e = html.escape
    figures = figures_by_notebook(results.load(out / "results.jsonl"))
    ok = sum(r.status == "ok" for r in runs)
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>edgelab run: {ok}/"
             f"{len(runs)} ok</title><style>{_CSS}</style></head><body>",
             f"<h1>edgelab run: {ok}/{len(runs)} notebooks ok</h1>",
             f"<p>profile <b>{e(profile)}</b>, edgelab {VERSION}; {e(machine.hardware_line())}; "
             f"total wall time {_minutes(total_seconds)}; finished "
             f"{_dt.datetime.now().isoformat(timespec='minutes')}.</p>",
             "<table><tr><th>notebook</th><th>status</th><th>wall time</th><th>estimate</th>"
             "<th>peak memory</th><th>plots</th></tr>"]
    sections = []
    for r in runs:
        stem = Path(r.notebook).stem
        nb_file = executed.get(r.notebook)
        link = None
        if nb_file is not None and nb_file.exists():
            page = out / "notebooks" / f"{stem}.html"
            link = page if render_notebook_html(nb_file, page) else nb_file
        images = extract_images(nb_file, out / "figures" / stem) if nb_file else []
        href = os.path.relpath(link, out) if link else None
        title = f"<a href='{e(href)}'>{e(r.notebook)}</a>" if href else e(r.notebook)
        css = "ok" if r.status == "ok" else "bad"
        parts.append(f"<tr><td><a href='#{e(stem)}'>{e(r.notebook)}</a></td>"
                     f"<td class='{css}'>{e(status_text(r, markdown=False))}</td>"
                     f"<td class='num'>{_minutes(r.seconds)}</td>"
                     f"<td class='num'>{_estimate_text(r)}</td>"
                     f"<td class='num'>{r.peak_rss_mb:,.0f} MB</td>"
                     f"<td class='num'>{len(images)}</td></tr>")
        figs = figures.get(stem, {})
        rows = "".join(f"<tr><td><code>{e(k)}</code></td><td class='num'>{e(results._fmt(v))}"
                       f"</td><td>{e(u)}</td></tr>" for k, (v, u) in sorted(figs.items()))
        thumbs = []
        for image, cell_id in images:
            target = href if href is None or not href.endswith(".html") or not cell_id \
                else f"{href}#cell-id={cell_id}"
            img = f"<img src='{e(os.path.relpath(image, out))}' alt='{e(image.stem)}' loading='lazy'>"
            thumbs.append(f"<a href='{e(target)}'>{img}</a>" if target else img)
        timing = "".join(f"<tr><td>{e(t)}</td><td class='num'>{e(c)}</td>"
                         f"<td class='num'>{e(w)}</td><td class='num'>{e(p)}</td></tr>"
                         for t, c, w, p in section_rows(r))
        sections.append(
            f"<section id='{e(stem)}'><h2>{title}</h2>"
            f"<p class='{css}'>{e(status_text(r, markdown=False))}</p>"
            f"<p>wall time {_minutes(r.seconds)} (estimate {_estimate_text(r)}), peak memory "
            f"{r.peak_rss_mb:,.0f} MB, {r.cells} code cells; cell time limit "
            f"{e(r.timeout_rule or '-')}</p>"
            + (f"<h3>time per section</h3><table><tr><th>section</th><th>code cells</th>"
               f"<th>time</th><th>share</th></tr>{timing}</table>" if timing else "")
            + (f"<h3>recorded figures</h3><table>{rows}</table>" if rows else
               "<p>no recorded figures</p>")
            + (f"<h3>plots ({len(images)})</h3><div class='plots'>{''.join(thumbs)}</div>"
               if thumbs else "<p>no plots</p>")
            + "</section>")
    parts.append("</table>")
    if plan_lines:
        parts.append(f"<h2>the plan printed before the run</h2><pre>{e(chr(10).join(plan_lines))}</pre>")
    parts += sections
    parts.append("</body></html>")
    report = out / "report.html"
    with atomic_write(report, encoding="utf-8") as handle:
        handle.write("\n".join(parts) + "\n")
    return report
