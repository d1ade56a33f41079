"""The workshop kit: `edgelab doctor` on this machine and on machines it stands in for (a
GPU, Colab's runtimes, a missing mirror, a full disk, too little memory, an unsupported
Python), `edgelab prepare` (plan first, idempotent, failures reported), what each lesson
needs, and the teacher's notes and timetables `edgelab teach` writes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from edgelab.run import sections as S
from edgelab.workshop import doctor, lessons, notes, prepare

ROOT = Path(__file__).resolve().parent.parent
HARDWARE = "Teaching laptop x4, accelerator: none"


def edgelab(*args, env_extra=None, cwd=ROOT):
    env = {**os.environ, **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "edgelab", *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def by_name(checks, name):
    found = [c for c in checks if c.check == name]
    assert found, f"no check {name!r} in {[c.check for c in checks]}"
    return found[0]


# ----------------------------------------------------------------------------- what lessons need

def test_every_lesson_has_its_notebook_and_names_real_things():
    from edgelab.datasets import registry

    assert list(lessons.LESSONS) == [f"{i:02d}" for i in range(1, 9)]
    notebooks = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert notebooks == [l.stem for l in lessons.LESSONS.values()], \
        "every notebook needs an entry in edgelab/workshop/lessons.py (what it needs)"
    for lesson in lessons.LESSONS.values():
        assert lesson.notebook is not None and lesson.notebook.stem == lesson.stem
        for name in lesson.datasets:
            registry.get(name)
        assert set(lesson.packages) | set(lesson.optional_packages) <= set(lessons.PACKAGES)
        assert lesson.title and not lesson.title[0].isdigit()


def test_the_file_names_of_handed_over_models_are_the_loaders_own():
    from edgelab.edge import sources
    from edgelab.hub import flowers_classifier
    from edgelab.mnist import cnn
    from edgelab.xception import model

    files = {f for l in lessons.LESSONS.values() for h in l.handovers for f in h.files}
    assert files == {f"{model.MODEL_DIR}/{model.CONFIG_FILE}", cnn.MODEL_FILE, cnn.FALLBACK_FILE,
                     flowers_classifier.MODEL_FILE, sources.HUB_SAVEDMODEL}


def test_the_notebooks_make_the_calls_prepare_makes_for_them():
    text = {n: "".join("".join(c["source"]) for c in json.loads(l.notebook.read_text())["cells"]
                       if c["cell_type"] == "code") for n, l in lessons.LESSONS.items()}
    fix = ("edgelab prepare makes the calls a later notebook makes, so what it leaves behind is "
           "what the notebook loads: when a notebook changes them, change edgelab/workshop/"
           "lessons.py (and this test) with it")
    assert "xception.load_or_train(epochs=S.xception_fallback_epochs" in text["03"], fix
    assert "flowers_classifier.load_or_train(S.flower_image_size, epochs=S.flower_epochs)" \
        in text["03"], fix
    assert "sources.mnist_model()" in text["07"] and "sources.flowers_model(" in text["07"], fix
    assert "resolve_handle(" in text["05"], fix
    assert "import torch" in text["08"], fix


def test_a_lesson_is_found_by_number_stem_or_path():
    assert lessons.find("5").number == lessons.find("05").number == "05"
    assert lessons.find("notebooks/05_mobilenet_tfhub_transfer.ipynb").number == "05"
    assert [l.number for l in lessons.select(["07", "3", "07"])] == ["03", "07"]
    for bad in ("9", "05_other", "x"):
        with pytest.raises(lessons.UnknownLesson, match="give a number or a notebook"):
            lessons.find(bad)


# ----------------------------------------------------------------------------- doctor

@pytest.fixture
def machine(monkeypatch, shared_home):
    """This machine's probes, made deterministic: nothing from the network, no GPU, plenty
    of memory and disk, recorded needs injected. Tests change one probe each."""
    monkeypatch.setattr(doctor, "probe_url", lambda url, timeout=0: (False, "no network in tests"))
    monkeypatch.setattr(doctor, "accelerator", lambda: ("none", "test"))
    monkeypatch.setattr(doctor, "on_colab", lambda: False)
    monkeypatch.setattr(doctor, "memory", lambda: (16 * 2**30, 12 * 2**30))
    monkeypatch.setattr(doctor, "disk_free", lambda path: 200 * 10**9)
    monkeypatch.setattr("edgelab.core.machine.hardware_line", lambda: HARDWARE)
    rows = []
    for lesson in lessons.LESSONS.values():
        for key, value in (("peak_memory", 2000.0), ("outputs_mb", 50.0), ("home_mb", 10.0),
                           ("minutes", 1.0)):
            rows.append({"key": f"run.{lesson.stem}.{key}", "value": value, "profile": "quick",
                         "hardware": HARDWARE, "time": "2026-12-01T10:00:00+00:00"})
    monkeypatch.setattr(doctor, "recorded_rows", lambda: rows)
    monkeypatch.delenv("EDGELAB_PROFILE", raising=False)
    return rows


def test_doctor_here_with_the_mirror_every_lesson_can_run(machine):
    import importlib.util

    selected = lessons.select([])
    checks = doctor.run_checks(selected)
    blocked = doctor.blocked(checks, selected)
    if all(importlib.util.find_spec(m) for m in ("torch", "onnx2tf")):
        assert blocked == {}
    else:   # a stack without the torch extra (the Colab stage): lesson 08 only, and says why
        assert set(blocked) == {"08"} and all("torch extra" in why for why in blocked["08"])
    assert by_name(checks, "Python").status == "ok"
    assert by_name(checks, "TensorFlow").status == "ok"
    assert by_name(checks, "data mirror").status == "ok"
    assert by_name(checks, "data: flowers17").status in ("ok", "warn")
    assert by_name(checks, "memory").detail.endswith("2.1 GB (01)")
    disk = by_name(checks, "disk")
    assert disk.status == "ok" and "notebook outputs 400 MB" in disk.detail
    assert by_name(checks, "time").detail.startswith("8.0 min of computing for 8 notebook(s)")
    assert {c.status for c in checks} <= set(doctor.STATUSES)


def test_doctor_reads_the_installed_tensorflows_build_without_importing_it(machine):
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        pytest.skip("no TensorFlow installed here (Colab's TPU runtime has none)")
    text = doctor.package_file("tensorflow", "python/platform/build_info.py")
    row = by_name(doctor.check_accelerators(lessons.select(["02"])), "tensorflow devices")
    # the PyPI wheels for Linux are CUDA builds: the doctor must see that in the real file
    if text and "('is_cuda_build', True)" in text:
        assert row.detail == "CPU (a CUDA build, no GPU here)"


def test_doctor_on_a_gpu_machine_names_what_each_engine_can_use(machine, monkeypatch):
    monkeypatch.setattr(doctor, "accelerator", lambda: ("NVIDIA T4", "nvidia-smi"))
    files = {("tensorflow", "python/platform/build_info.py"):
             "build_info = collections.OrderedDict([('cuda_version', ''), ('is_cuda_build', False)])",
             ("torch", "version.py"): "__version__ = '2.11.0+cu128'\ncuda: Optional[str] = '12.8'\n"}
    monkeypatch.setattr(doctor, "package_file", lambda m, rel: files.get((m, rel)))
    monkeypatch.setattr(doctor, "importable", lambda m: True)   # the engines are installed
    monkeypatch.setattr(doctor, "distribution_version", lambda d: None)   # no CUDA plugin
    checks = doctor.check_accelerators(lessons.select([]))
    assert by_name(checks, "accelerator").detail == "NVIDIA T4 (nvidia-smi)"
    tf = by_name(checks, "tensorflow devices")
    assert tf.status == "warn" and "without CUDA" in tf.detail and "and-cuda" in tf.fix
    assert by_name(checks, "torch devices").detail == "CPU and CUDA 12.8"
    assert by_name(checks, "jax devices").status == "warn"          # no CUDA plugin here
    # as TensorFlow 2.21's wheel writes it
    files[("tensorflow", "python/platform/build_info.py")] = (
        "build_info = collections.OrderedDict([('cpu_compiler', 'clang'), ('cuda_version', "
        "'12.5.1'), ('cudnn_version', '9'), ('is_cuda_build', True), ('is_rocm_build', False)])")
    assert by_name(doctor.check_accelerators(lessons.select(["01"])),
                   "tensorflow devices").detail == "CPU and the GPU (a CUDA build)"
    # --deep imports each engine in a child process; here it sees no GPU: a warning with a fix
    monkeypatch.setattr(doctor, "deep_devices", lambda engine: (True, "CPU"))
    deep = by_name(doctor.check_accelerators(lessons.select(["02"]), deep=True), "tensorflow devices")
    assert deep.status == "warn" and deep.detail == "sees CPU"
    monkeypatch.setattr(doctor, "deep_devices", lambda engine: (False, "import tensorflow failed: x"))
    broken = by_name(doctor.check_accelerators(lessons.select(["02"]), deep=True), "tensorflow devices")
    assert broken.status == "FAIL" and broken.blocks == ["02"]


def test_doctor_on_colabs_tpu_runtime_only_lesson_01_runs(machine, monkeypatch):
    monkeypatch.setattr(doctor, "on_colab", lambda: True)
    monkeypatch.setattr(doctor, "accelerator", lambda: ("TPU", "TPU_ACCELERATOR_TYPE"))
    real = doctor.distribution_version
    monkeypatch.setattr(doctor, "distribution_version",
                        lambda d: None if d.startswith("tensorflow") else real(d))
    selected = lessons.select([])
    checks = doctor.run_checks(selected)
    stops = doctor.blocked(checks, selected)
    assert "01" not in stops and {"02", "03", "05", "07", "08"} <= set(stops)   # 01 has JAX
    tf = by_name(checks, "TensorFlow")
    assert tf.status == "FAIL" and "TPU runtimes ship no TensorFlow" in tf.fix
    assert by_name(checks, "Colab runtime").status == "warn"
    lines = doctor.summary(checks, selected)
    assert lines[0].startswith("lessons: 01 ok, 02 CANNOT RUN (TensorFlow")


def test_doctor_on_colabs_cpu_runtime_says_how_to_get_a_gpu(machine, monkeypatch):
    monkeypatch.setattr(doctor, "on_colab", lambda: True)
    row = doctor.check_colab()
    assert row.status == "ok" and "T4 GPU" in row.fix and "quick profile" in row.detail


def test_doctor_without_mirror_or_internet_fails_the_data_and_says_how(machine, monkeypatch, home):
    monkeypatch.setattr(doctor, "probe_url", lambda url, timeout=0: (False, "no route"))
    selected = lessons.select(["06"])
    checks = doctor.run_checks(selected)
    data = by_name(checks, "data: sample_images")
    assert data.status == "FAIL" and data.blocks == ["06"]
    assert "EDGELAB_OFFLINE=1" in data.detail and "edgelab data serve" in data.fix
    monkeypatch.delenv("EDGELAB_OFFLINE")
    data = by_name(doctor.run_checks(selected), "data: sample_images")
    assert data.status == "FAIL" and "is not reachable (no route)" in data.detail
    monkeypatch.setattr(doctor, "probe_url", lambda url, timeout=0: (True, "HTTP 200"))
    data = by_name(doctor.run_checks(selected), "data: sample_images")
    assert data.status == "warn" and "reachable online" in data.detail
    assert "edgelab prepare" in data.fix


def test_doctor_with_a_mirror_that_is_missing(machine, monkeypatch, tmp_path):
    monkeypatch.setenv("EDGELAB_MIRROR", str(tmp_path / "gone"))
    selected = lessons.select(["04"])
    checks = doctor.run_checks(selected)
    row = by_name(checks, "data mirror")
    assert row.status == "FAIL" and "is not a folder" in row.detail
    assert doctor.blocked(checks, selected)["04"][0] == "data mirror"
    monkeypatch.setenv("EDGELAB_MIRROR", "http://127.0.0.1:9")
    monkeypatch.setattr(doctor, "probe_url", lambda url, timeout=0: (False, "connection refused"))
    row = by_name(doctor.run_checks(selected), "data mirror")
    assert row.status == "FAIL" and "does not answer (connection refused)" in row.detail


def test_doctor_on_a_full_disk(machine, monkeypatch, home):
    monkeypatch.setattr(doctor, "disk_free", lambda path: 20 * 10**6)
    selected = lessons.select(["01", "06"])
    disk = doctor.check_disk(selected, machine)
    assert disk.status == "FAIL" and disk.blocks == ["01", "06"]
    # mnist (11.6 MB) + flowers (60.6 MB) + sample images to fetch, plus the recorded writes
    assert "20 MB free; needs 193 MB" in disk.detail and "EDGELAB_HOME" in disk.fix
    monkeypatch.setattr(doctor, "disk_free", lambda path: 300 * 10**6)
    assert doctor.check_disk(selected, machine).status == "warn"      # less than twice


def test_doctor_with_too_little_memory_or_an_unsupported_python(machine, monkeypatch):
    monkeypatch.setattr(doctor, "memory", lambda: (1 * 2**30, 2**29))
    row = doctor.check_memory(lessons.select(["06", "08"]), machine)
    assert row.status == "FAIL" and row.blocks == ["06", "08"]
    monkeypatch.setattr(doctor, "memory", lambda: (8 * 2**30, 2**30))
    assert doctor.check_memory(lessons.select([]), machine).status == "warn"
    for version, status in (((3, 10, 12), "FAIL"), ((3, 11, 0), "ok"), ((3, 13, 1), "ok"),
                            ((3, 14, 0), "FAIL")):
        monkeypatch.setattr(doctor, "python_version", lambda v=version: v)
        assert doctor.check_python().status == status


def test_doctor_reports_a_missing_torch_extra_for_08_only(machine, monkeypatch):
    real = doctor.importable
    monkeypatch.setattr(doctor, "importable", lambda m: m not in ("torch", "onnx2tf") and real(m))
    selected = lessons.select(["07", "08"])
    checks = doctor.run_checks(selected)
    torch = by_name(checks, "PyTorch (torch extra)")
    assert torch.status == "FAIL" and torch.blocks == ["08"] and "tools/install.sh" in torch.fix
    assert set(doctor.blocked(checks, selected)) == {"08"}


def test_a_broken_probe_is_a_row_not_a_traceback(machine, monkeypatch):
    def broken():
        raise RuntimeError("the probe broke")

    monkeypatch.setattr(doctor, "memory", broken)
    row = by_name(doctor.run_checks(lessons.select(["06"])), "memory")
    assert row.status == "warn" and "could not check: RuntimeError: the probe broke" in row.detail


def test_doctor_on_the_command_line(shared_home, tmp_path):
    proc = edgelab("doctor", "06", "--format", "json",
                   env_extra={"EDGELAB_HISTORY": str(tmp_path / "h.jsonl")})
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    report = json.loads(proc.stdout)
    assert {c["check"] for c in report["checks"]} >= {"Python", "OpenCV", "data: flowers17", "disk"}
    proc = edgelab("doctor", "06")
    assert "check" in proc.stdout.splitlines()[0] and "fix" in proc.stdout.splitlines()[0]
    assert "lessons: 06 " in proc.stdout
    proc = edgelab("doctor", "99")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no lesson '99'" in proc.stderr
    proc = edgelab("doctor", "06", env_extra={"EDGELAB_PROFILE": "fast"})
    assert proc.returncode == 1 and "Traceback" not in proc.stderr + proc.stdout
    assert "EDGELAB_PROFILE='fast' is not a profile" in proc.stdout


# ----------------------------------------------------------------------------- prepare

def test_prepare_fetches_then_has_nothing_left_to_do(home, mirror, monkeypatch, capsys):
    monkeypatch.setenv("EDGELAB_MIRROR", str(mirror))
    monkeypatch.setenv("EDGELAB_HISTORY", str(home / "history.jsonl"))
    selected = lessons.select(["06"])
    assert prepare.prepare(selected, profile="quick", progress=False) == 0
    out = capsys.readouterr().out
    first = out.splitlines()
    assert first[0].startswith("edgelab prepare: 2 step(s), profile quick")
    assert "data: flowers17" in first[2] and "60.6 MB to fetch" in first[2]
    assert "to do: 2 step(s): 61.4 MB to fetch" in out
    assert "1360 file(s) verified" in out
    assert prepare.prepare(selected, profile="quick", progress=False) == 0
    assert "everything is already prepared." in capsys.readouterr().out


def test_prepare_times_its_steps_reports_failures_and_goes_on(home, monkeypatch, capsys):
    monkeypatch.setenv("EDGELAB_HISTORY", str(home / "history.jsonl"))
    done = []
    steps = [prepare.Step("model.99.1", "model for 99: a demo", lambda: "a" in done,
                          lambda: done.append("a") or "trained here"),
             prepare.Step("model.99.2", "model for 99: broken", lambda: False,
                          lambda: 1 / 0),
             prepare.Step("build.99.1", "build for 99: a demo", lambda: "b" in done,
                          lambda: done.append("b") or "built")]
    monkeypatch.setattr(prepare, "steps_for", lambda selected: steps)
    assert prepare.prepare([], profile="quick", progress=False) == 1
    out = capsys.readouterr().out
    assert "not timed here yet" in out and "3 step(s) never timed on this machine" in out
    assert "model for 99: broken: FAILED: ZeroDivisionError" in out
    assert "model for 99: a demo: trained here" in out and "build for 99: a demo: built" in out
    assert "2 of 3 step(s) done, 1 FAILED" in out
    # the times it measured are the next plan's estimate; what is done is skipped
    assert prepare.prepare([], profile="quick", progress=False) == 1
    out = capsys.readouterr().out
    assert "model for 99: a demo  done" in out and "to do: 1 step(s)" in out
    keys = {json.loads(line)["key"] for line in (home / "history.jsonl").read_text().splitlines()}
    assert keys == {"prepare.model.99.1.minutes", "prepare.build.99.1.minutes"}


def test_prepare_plan_and_bad_input_on_the_command_line(shared_home):
    proc = edgelab("prepare", "03", "05", "07", "--plan")
    assert proc.returncode == 0, proc.stderr
    assert "model for 03: the Xception notebook 02 trains" in proc.stdout
    assert "build for 05: the TF Hub MobileNet modules" in proc.stdout
    assert "model for 07: the MNIST CNN notebook 01 trains" in proc.stdout
    proc = edgelab("prepare", "nine")
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "no lesson 'nine'" in proc.stderr


# ----------------------------------------------------------------------------- teacher's notes

def _recorded(lesson: lessons.Lesson, profile="quick", minutes_each=0.2, time="2026-12-02T09:00:00+00:00",
              titles=None, longest=None):
    """Rows of a recorded run of ``lesson`` with per-section times, as edgelab run writes them."""
    current = S.split(lesson.notebook)
    rows = []
    total = 0.0
    for s in current:
        if titles is not None and s.number in titles:
            title = titles[s.number]
        else:
            title = s.title
        rows.append({"key": S.section_key(lesson.stem, s.number), "value": minutes_each,
                     "note": title, "first_cell": s.code_cells[0] if s.code_cells else None,
                     "last_cell": s.code_cells[-1] if s.code_cells else None,
                     "profile": profile, "hardware": HARDWARE, "time": time})
        total += minutes_each
    main = longest or next(s for s in reversed(current) if s.code_cells)
    rows += [{"key": f"run.{lesson.stem}.minutes", "value": total + 0.1, "profile": profile,
              "hardware": HARDWARE, "time": time},
             {"key": f"run.{lesson.stem}.longest_cell_minutes", "value": minutes_each / 2,
              "cell": main.code_cells[0], "profile": profile, "hardware": HARDWARE, "time": time},
             {"key": f"run.{lesson.stem}.peak_memory", "value": 1234.0, "profile": profile,
              "hardware": HARDWARE, "time": time}]
    return rows


@pytest.fixture
def rows():
    out = []
    for lesson in lessons.LESSONS.values():
        out += _recorded(lesson)
    return out


def test_the_notes_show_measured_sections_and_estimate_the_full_profile(rows):
    n = notes.lesson_notes(lessons.find("06"), rows)
    assert n.stale == [] and all(p.quick == 0.2 for p in n.plans)
    assert all(p.full is not None for p in n.plans) and n.full_rough
    plan = notes.block_plan(n)
    assert "| 12 s |" in plan and "~" in plan and "*Suggested* minutes are suggestions" in plan
    assert n.full_text.startswith("the plan's figure (`edgelab run --profile full --plan`) for Teaching laptop x4, accelerator: none: scaled")
    # a section's suggestion follows the rule stated beside it
    p = n.plans[1]
    explain = 1 + p.section.words / notes.EXPLAIN_WORDS_PER_MINUTE + \
        notes.EXPLAIN_PER_CODE_CELL * len(p.section.code_cells)
    assert p.explain == -(-explain // 1)
    assert p.do == -(-(notes.DO_PER_CODE_CELL * len(p.section.code_cells) + 0.2) // 1)
    header = notes.block_header(n)
    assert "measured by `edgelab run` on Teaching laptop x4, accelerator: none (2026-12-02)" in header


def test_a_full_run_with_sections_is_shown_as_measured(rows):
    lesson = lessons.find("06")
    rows = rows + _recorded(lesson, profile="full", minutes_each=0.5)
    n = notes.lesson_notes(lesson, rows)
    assert not n.full_rough and n.full_text.startswith("measured: a full run on Teaching laptop")
    assert "| 30 s |" in notes.block_plan(n) and "~30 s" not in notes.block_plan(n)


def test_notes_say_when_the_recorded_run_predates_the_notebook(rows):
    lesson = lessons.find("03")
    changed = [r for r in rows if not r["key"].startswith(f"run.{lesson.stem}.")]
    changed += _recorded(lesson, titles={2: "2. A section that was renamed since"})
    n = notes.lesson_notes(lesson, changed)
    assert n.stale == [n.plans[2].section.title]
    assert n.plans[2].quick is None and n.plans[3].quick == 0.2
    assert "predates this version of the notebook" in notes.block_plan(n)
    warnings = []
    notes.render(Path("/nonexistent"), changed, warnings)
    assert any(w.startswith("03: the recorded run") for w in warnings)


def test_cut_lines_name_what_later_sections_lose(rows):
    n = notes.lesson_notes(lessons.find("03"), rows)
    cuts = notes.block_cuts(n)
    assert "**a clean cut**" in cuts and "later cells fail:" in cuts and "nothing breaks" in cuts


def test_exercises_come_from_the_exercise_api_when_it_is_there(rows, monkeypatch):
    # the real API, as it is installed: its rows for notebook 05 come through
    real = notes.exercises_of("05_mobilenet_tfhub_transfer")
    assert real and all(e["in_class"] in (True, False) and e["minutes"] for e in real)
    monkeypatch.setitem(sys.modules, "edgelab.exercises", None)      # not installed
    n = notes.lesson_notes(lessons.find("02"), rows)
    assert n.exercises is None
    assert notes.block_exercises(n) == "exercises: see the notebook (its last section)."
    fake = types.ModuleType("edgelab.exercises")
    fake.catalogue = lambda: [
        {"notebook": "02", "number": 1, "title": "The schedule", "in_class": True, "minutes": 10,
         "mistakes": ["the source's no-op decay", "a rate | halved"]},
        types.SimpleNamespace(lesson="02_xception_sonnet_flowers", index=2, name="AdamW",
                              where="homework", minutes=30),
        {"notebook": "03", "number": 1, "title": "not this one", "in_class": True, "minutes": 5}]
    monkeypatch.setitem(sys.modules, "edgelab.exercises", fake)
    n = notes.lesson_notes(lessons.find("02"), rows)
    text = notes.block_exercises(n)
    assert "| 1. The schedule | in class | 10 | the source's no-op decay; a rate / halved |" in text
    assert "| 2. AdamW | homework | 30 | - |" in text and "not this one" not in text
    # where the day has room, the in-class exercise is in the timetable; where it has none
    # (eight lessons in two days), exercises go home before sections are cut
    roomy = notes.timetable([n], 2)
    assert "in class: exercise 1" in roomy and "exercises as homework" not in roomy
    two_days = notes.timetable([notes.lesson_notes(l, rows) for l in lessons.LESSONS.values()], 2)
    assert "exercises as homework" in two_days


def test_the_timetables_fit_the_days_and_keep_core_sections(rows):
    all_notes = [notes.lesson_notes(l, rows) for l in lessons.LESSONS.values()]
    for days in (1, 2):
        text = notes.timetable(all_notes, days)
        lines = [l for l in text.splitlines() if l.startswith(f"| ")][2 - 1:]
        body = [l for l in lines if not l.startswith("| day") and not l.startswith("|---")]
        assert all(f"[{l.number} ·" in text for l in lessons.LESSONS.values())
        assert body[0].startswith("| 1 | 09:00 | setup")
        assert body[-1].split("|")[3].strip() == "end"
        assert max(int(l.split("|")[1]) for l in body) == days
        assert "The last day runs" not in text          # it fits: no overrun
        clock = [(int(l.split("|")[1]), l.split("|")[2].strip()) for l in body]
        assert clock == sorted(clock)                      # time only moves forward
        assert text.count("*lunch*") == days
    one = notes.timetable(all_notes, 1)
    assert "demo" in one and "each lesson gets about its share" in one
    assert "run without discussion" in one
    # a core section is never skipped, whatever the budget
    n = all_notes[2]
    clean = [s.number for s, deps in n.cuts if not deps and s.code_cells]
    assert clean
    skipped = notes.fit(n, 10, False)
    assert all(skipped.modes[k] == "skip" for k in clean)
    n.core = {clean[0]}
    assert notes.fit(n, 10, False).modes[clean[0]] != "skip"
    assert 0 not in [k for k, m in skipped.modes.items() if m == "skip"]


def test_an_overrun_is_left_only_when_nothing_can_give_way_and_says_what_to_do(rows):
    # three times the curriculum cannot fit one day: every lesson shrinks to its smallest
    # (core sections and what later cells need), and only then does the day run over
    too_much = [notes.lesson_notes(l, rows) for l in lessons.LESSONS.values()] * 3
    text = notes.timetable(too_much, 1)
    assert "The last day runs" in text and "teach fewer lessons" in text
    available = (notes.teaching_minutes_per_day() - notes.SETUP_MINUTES
                 - notes.LESSON_GAP * len(too_much))
    slots = notes.share_out(too_much, {n.lesson.number: n.explain + n.do for n in too_much},
                            available, False)
    assert all(s.minutes == notes.fit(s.notes, 0, False).minutes for s in slots)


def test_core_sections_are_read_from_the_prose_and_unknown_ones_reported():
    sections = S.split(lessons.find("03").notebook)
    found, warnings = notes.core_sections("x\nCore sections (never cut): §2, §6.\n", sections)
    assert found == {2, 6} and warnings == []
    found, warnings = notes.core_sections("Core sections: §2, §42", sections)
    assert found == {2} and warnings == ["core section §42 is not a section of the notebook"]
    assert notes.core_sections("Core sections (...): none yet.", sections) == (set(), [])


def test_teach_writes_keeps_prose_and_checks(rows, tmp_path, monkeypatch):
    out = tmp_path / "teaching"
    changed = notes.write(out, rows)
    assert {p.name for p in changed} == {f"{l.stem}.md" for l in lessons.LESSONS.values()} | \
        {"README.md", "timetable.md"}
    page = (out / "06_lineart_extraction.md").read_text()
    for name in notes.BLOCKS:
        assert notes.BEGIN.format(name=name) in page and notes.END.format(name=name) in page
    # prose written by hand between the blocks survives a regeneration with new times
    page = page.replace("## Discussion questions\n\n_(to write)_",
                        "## Discussion questions\n\n1. Why dilate before subtracting?")
    (out / "06_lineart_extraction.md").write_text(page)
    newer = [dict(r, value=r["value"] * 2) if r["key"].startswith("run.06") else r for r in rows]
    assert out / "06_lineart_extraction.md" in notes.write(out, newer)
    page = (out / "06_lineart_extraction.md").read_text()
    assert "1. Why dilate before subtracting?" in page and "| 24 s |" in page
    assert notes.write(out, newer) == []                   # idempotent
    # a notes file for a notebook that was renamed since is moved, with its prose
    (out / "06_lineart_extraction.md").rename(out / "06_old_name.md")
    notes.write(out, newer)
    assert not (out / "06_old_name.md").exists()
    assert "Why dilate" in (out / "06_lineart_extraction.md").read_text()
    # a generated block whose markers were edited away is an error, not a silent rewrite
    (out / "timetable.md").write_text("# timetables, edited by hand\n")
    with pytest.raises(ValueError, match="one_day"):
        notes.write(out, newer)


def test_the_committed_teaching_notes_are_up_to_date():
    """In every language: teaching/ and teaching/ja/ are what `edgelab teach` writes."""
    proc = edgelab("teach", "--check")
    assert proc.returncode == 0, proc.stderr + \
        " (regenerate them: edgelab teach, after recording runs: make record-run)"


QUANTITY = re.compile(r"^\**~?[\d.,]+(?: ?(?:s|min|h|MB|KB|秒|分|時間))?\**$|^\d\d:\d\d$")


def _table_rows(text: str) -> list[list[str]]:
    return [[c.strip() for c in line.strip().strip("|").split("|")]
            for line in text.splitlines() if line.startswith("| ") and not line.startswith("|---")]


def test_the_japanese_notes_show_the_english_figures():
    """Every figure in a table of the English notes (minutes, sizes, clock times, counts)
    is in the same row and column of the Japanese page, as the same number."""
    pages = sorted((ROOT / "teaching").glob("*.md"))
    assert {p.name for p in (ROOT / "teaching" / "ja").glob("*.md")} == {p.name for p in pages}
    for page in pages:
        en = _table_rows(page.read_text())
        ja = _table_rows((ROOT / "teaching" / "ja" / page.name).read_text())
        assert len(en) == len(ja), page.name
        compared = 0
        for row_en, row_ja in zip(en, ja):
            assert len(row_en) == len(row_ja), (page.name, row_en, row_ja)
            for cell_en, cell_ja in zip(row_en, row_ja):
                if QUANTITY.match(cell_en):
                    assert re.findall(r"[\d.,:]+", cell_en) == re.findall(r"[\d.,:]+", cell_ja), \
                        (page.name, cell_en, cell_ja)
                    compared += 1
        assert compared > 5, page.name


def test_notes_written_elsewhere_keep_the_hand_written_prose(rows, tmp_path):
    """`edgelab teach --out DIR` (a teacher's own timings) starts from the checkout's prose,
    in both languages."""
    out = tmp_path / "my-notes"
    notes.write(out, rows, prose_from=ROOT / "teaching")
    page = (out / "02_xception_sonnet_flowers.md").read_text()
    assert "## Discussion questions" in page and "_(to write)_" not in page
    committed = (ROOT / "teaching" / "02_xception_sonnet_flowers.md").read_text()
    question = next(line for line in committed.splitlines() if line.startswith("1. "))
    assert question in page
    assert "## ディスカッションの問い" in (out / "ja" / "02_xception_sonnet_flowers.md").read_text()
