"""``edgelab doctor [LESSON...]``: will the lessons run here? The pre-flight for the day before.

Every participant runs it on the machine (or Colab runtime) they will use; it prints one
table, **check | status | detail | fix**, and under it which lessons can run::

    edgelab doctor            every lesson
    edgelab doctor 05         what notebook 05 needs, only
    edgelab doctor --deep     also import each engine (slow) to list the devices it sees

It checks the Python version against the supported range; edgelab's and the stack's
versions against the ranges edgelab declares (and the tested pins, in a checkout); the
data each lesson uses: cached and verified, reachable through ``EDGELAB_MIRROR``, or
reachable online; the models a lesson takes from an earlier one and the Hub modules it
builds on first use; the accelerator and what each engine can use of it; free disk and
memory against what the lessons need; and, on Colab, the runtime type.

What the lessons need is measured, not guessed: the data's sizes come from the registry,
peak memory and the megabytes a notebook writes from the runner's recorded runs
(``run.<notebook>.peak_memory``, ``.outputs_mb``, ``.home_mb`` in ``benchmarks/results.jsonl``
and this machine's history), the time from the plan (:mod:`edgelab.run.plan`).

Statuses: ``ok``; ``warn`` (it will run, with a cost the detail names: a model trained in
class, a download on the day); ``FAIL`` (a lesson cannot run: the lessons line names
which). The exit status is 1 when a lesson asked about cannot run, else 0. Nothing here
imports TensorFlow, JAX or PyTorch unless ``--deep`` asks, and then only in a child process.
Every probe of the machine is a function of this module, so tests stand in for machines
this one is not (a GPU, Colab, a full disk).
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import textwrap
import urllib.parse
from dataclasses import asdict, dataclass, field
from pathlib import Path

from edgelab.core import machine, paths, profiles
from edgelab.workshop import lessons as catalogue

SUPPORTED = ((3, 11), (3, 13))        # the Python range make test covers, both ends
PROBE_TIMEOUT = 4.0                   # seconds for one network probe
DEEP_TIMEOUT = 240                    # seconds for one engine's import under --deep
STATUSES = ("ok", "warn", "FAIL")


@dataclass
class Check:
    check: str
    status: str                                   # ok | warn | FAIL
    detail: str
    fix: str = ""
    blocks: list[str] = field(default_factory=list)   # lessons that cannot run while it fails


# --------------------------------------------------------------------------- probes
# One function per fact about the machine; tests replace them to stand in for others.

def python_version() -> tuple[int, int, int]:
    return sys.version_info[:3]


def distribution_version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def importable(module: str) -> bool:
    """True if ``module`` can be found (not imported: that can take seconds)."""
    import importlib.util

    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def package_file(module: str, relative: str) -> str | None:
    """The text of a file inside an installed package, read without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.submodule_search_locations:
        return None
    for folder in spec.submodule_search_locations:
        path = Path(folder) / relative
        if path.is_file():
            try:
                return path.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
    return None


def on_colab() -> bool:
    return "google.colab" in sys.modules or bool(os.environ.get("COLAB_RELEASE_TAG")) \
        or importable("google.colab")


def accelerator() -> tuple[str, str]:
    return machine.accelerator()


def disk_free(path: Path) -> int:
    """Free bytes on the file system of ``path`` (its nearest existing parent)."""
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return shutil.disk_usage(path).free


def device_of(path: Path) -> int:
    path = Path(path)
    while not path.exists() and path != path.parent:
        path = path.parent
    return os.stat(path).st_dev


def memory() -> tuple[int, int]:
    """(total, available) bytes of RAM."""
    import psutil

    vm = psutil.virtual_memory()
    return vm.total, vm.available


_unreachable: dict[str, str] = {}    # host -> why it did not answer (asked once per run)


def probe_url(url: str, timeout: float = PROBE_TIMEOUT) -> tuple[bool, str]:
    """Does ``url`` answer? For http(s), a HEAD request (a 2xx or 3xx answer counts);
    ``(answer, reason)``; never raises. A host that did not answer is not asked again."""
    import urllib.error
    import urllib.request

    host = urllib.parse.urlparse(url).netloc
    if host in _unreachable:
        return False, _unreachable[host]
    request = urllib.request.Request(url, method="HEAD", headers={"User-Agent": "edgelab-doctor"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as reply:
            return reply.status < 400, f"HTTP {reply.status}"
    except urllib.error.HTTPError as err:
        return False, f"HTTP {err.code}"
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        _unreachable[host] = f"{host}: {reason}"
        return False, _unreachable[host]


def deep_devices(engine: str) -> tuple[bool, str]:
    """Import ``engine`` in a child process and list the devices it sees."""
    code = {
        "tensorflow": "import os; os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL','3');"
                      "import tensorflow as tf;"
                      "print(', '.join(sorted({d.device_type for d in tf.config.list_physical_devices()})))",
        "jax": "import jax; print(', '.join(sorted({d.platform.upper() for d in jax.devices()})))",
        "torch": "import torch; print('CUDA x%d' % torch.cuda.device_count() "
                 "if torch.cuda.is_available() else 'CPU')",
    }[engine]
    try:
        proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                              timeout=DEEP_TIMEOUT)
    except subprocess.TimeoutExpired:
        return False, f"importing {engine} took over {DEEP_TIMEOUT} s"
    if proc.returncode:
        tail = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return False, f"import {engine} failed: {tail[:200]}"
    return True, proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else "?"


def recorded_rows() -> list[dict]:
    from edgelab.run import plan

    return plan.recorded_rows()


# --------------------------------------------------------------------------- helpers

def _mb(nbytes: float) -> str:
    if nbytes >= 1e9:
        return f"{nbytes / 1e9:.1f} GB"
    if nbytes >= 1e6:
        return f"{nbytes / 1e6:,.0f} MB"
    return f"{nbytes / 1e3:,.0f} KB"


def _outputs_dir() -> Path:
    """The outputs folder, as paths.outputs() gives it, without failing on a bad profile."""
    value = os.environ.get(paths.OUT_VAR)
    return Path(value).expanduser() if value else paths.home() / "outputs" / _profile().profile


def _lesson_list(numbers) -> str:
    numbers = sorted(set(numbers))
    return ", ".join(numbers) if len(numbers) < len(catalogue.LESSONS) else "all"


def _setup_fix() -> str:
    if on_colab():
        return "run the notebook's first code cell (it installs what Colab lacks)"
    return "make setup in the checkout (or bash tools/install.sh --python YOUR_PYTHON)"


def _newest_value(rows: list[dict], key: str, profile: str, hardware: str) -> float | None:
    """The newest recorded value of ``key`` in ``profile``, this machine's first, else the
    largest any machine recorded (memory and disk needs are about the lesson, mostly)."""
    found = [r for r in rows if r.get("key") == key and r.get("profile") == profile
             and isinstance(r.get("value"), (int, float))]
    here = [r for r in found if r.get("hardware") == hardware]
    if here:
        return float(max(here, key=lambda r: r.get("time", ""))["value"])
    return max((float(r["value"]) for r in found), default=None)


# --------------------------------------------------------------------------- checks

def check_python() -> Check:
    v = python_version()
    text = ".".join(map(str, v))
    low, high = SUPPORTED
    supported = f"{low[0]}.{low[1]} to {high[0]}.{high[1]}"
    if low <= v[:2] <= high:
        return Check("Python", "ok", f"{text} (supported: {supported})")
    fix = ("Runtime > Change runtime type: the default runtime" if on_colab() else
           f"use Python {supported} (e.g. pyenv install 3.11, then make setup PYTHON=python3.11)")
    return Check("Python", "FAIL", f"{text} is outside the supported range {supported}", fix,
                 blocks=list(catalogue.LESSONS))


def check_edgelab() -> Check:
    from edgelab.core.project import VERSION

    root = paths.project_root()
    where = "from this checkout (notebooks found)" if root is not None else \
        "installed without a checkout: the notebooks are not here"
    status = "ok" if root is not None else "warn"
    fix = "" if root is not None else "git clone the repository and run make setup in it"
    return Check("edgelab", status, f"{VERSION}, {where}", fix)


def _requirements() -> dict[str, str]:
    """Distribution name -> the version range edgelab declares for it."""
    from importlib import metadata

    try:
        reqs = metadata.requires("edgelab") or []
    except metadata.PackageNotFoundError:
        return {}
    out = {}
    for req in reqs:
        if "extra ==" in req:
            continue
        m = re.match(r"^([A-Za-z0-9_.\-]+)\s*(?:\[[^\]]*\])?\s*([^;]*)", req)
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2).strip()
    return out


def _pins() -> dict[str, str]:
    """Distribution name -> the tested version in the checkout's constraints.txt."""
    root = paths.project_root()
    if root is None or not (root / "constraints.txt").is_file():
        return {}
    out = {}
    for line in (root / "constraints.txt").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.\-]+)==([^\s;#]+)", line.strip())
        if m:
            out[m.group(1).lower().replace("_", "-")] = m.group(2)
    return out


def _in_range(version: str, spec: str) -> bool | None:
    try:
        from packaging.specifiers import SpecifierSet
        from packaging.version import Version

        return Version(version) in SpecifierSet(spec, prereleases=True)
    except Exception:  # noqa: BLE001 - an odd version string: no verdict rather than a crash
        return None


def check_packages(selected: list[catalogue.Lesson]) -> list[Check]:
    needed: dict[str, list[str]] = {}
    optional: dict[str, list[str]] = {}
    for lesson in selected:
        for p in lesson.packages:
            needed.setdefault(p, []).append(lesson.number)
        for p in lesson.optional_packages:
            optional.setdefault(p, []).append(lesson.number)
    ranges, pins = _requirements(), _pins()
    tpu_runtime = on_colab() and accelerator()[0] == "TPU"
    checks = []
    for module in [m for m in catalogue.PACKAGES if m in needed or m in optional]:
        dists, label = catalogue.PACKAGES[module]
        users = needed.get(module, [])
        version = next((v for v in map(distribution_version, dists) if v), None)
        dist = next((d for d in dists if distribution_version(d)), dists[0])
        if version is None or not importable(module):
            torch_extra = module in catalogue.TORCH_EXTRA
            fix = catalogue.TORCH_EXTRA_FIX if torch_extra else _setup_fix()
            if module == "tensorflow" and tpu_runtime:
                fix = ("Colab's TPU runtimes ship no TensorFlow: Runtime > Change runtime type "
                       "> a GPU (T4) or CPU runtime; on a TPU only notebook 01 runs (with JAX)")
            if users:
                checks.append(Check(label, "FAIL", f"not installed; needed by lesson(s) "
                                    f"{_lesson_list(users)}", fix, blocks=users))
            else:
                checks.append(Check(label, "warn", f"not installed; lesson(s) "
                                    f"{_lesson_list(optional[module])} can use another engine",
                                    fix))
            continue
        spec = ranges.get(dist.lower())
        pin = pins.get(dist.lower())
        tested = f"tested: {pin}" if pin else ""
        if spec and _in_range(version, spec) is False:
            checks.append(Check(label, "warn", f"{version}, outside edgelab's range {spec}"
                                + (f" ({tested})" if tested else ""),
                                f"{_setup_fix()}; or expect surprises"))
            continue
        detail = version if not pin or pin == version else f"{version} ({tested})"
        if pin and pin != version and on_colab():
            detail = f"{version} (Colab's own; edgelab's tests cover Colab's stack)"
        checks.append(Check(label, "ok", detail))
    for lesson in selected:
        if lesson.one_of and not any(importable(m) and any(map(distribution_version,
                                                               catalogue.PACKAGES[m][0]))
                                     for m in lesson.one_of):
            names = " or ".join(catalogue.PACKAGES[m][1] for m in lesson.one_of)
            checks.append(Check(f"engine for {lesson.number}", "FAIL", f"neither {names} is "
                                "installed", _setup_fix(), blocks=[lesson.number]))
    return checks


def _data_source(ds) -> tuple[str, str, str]:
    """(status, detail, fix) for the files of dataset ``ds`` that are not cached yet."""
    from edgelab.datasets import cache

    missing = [f for f in ds.files
               if not (cache.cache_path(f).is_file() and cache.matches(cache.cache_path(f), f.hash))]
    if not missing:
        return "ok", f"cached and verified ({_mb(ds.size or 0)})", ""
    size = ds.size
    share = "" if size is None else f", {_mb(size * len(missing) / len(ds.files))} to get"
    prepare = f"edgelab prepare (or edgelab data fetch {ds.name}) before the day"
    broken = False
    try:
        mirror = cache.mirror()
    except cache.DataError:
        mirror, broken = None, True       # the data mirror row says why
    if mirror is not None:
        if "://" in mirror:
            ok, reason = probe_url(f"{mirror}/{missing[0].path}")
            if ok:
                return "warn", f"not cached; on the mirror {mirror}{share}", prepare
            mirror_note = f"the mirror {mirror} does not serve it ({reason})"
        else:
            absent = [f for f in missing if not (Path(mirror) / f.path).is_file()]
            if not absent:
                return "warn", f"not cached; in the mirror folder{share}", prepare
            mirror_note = f"{len(absent)} file(s) missing from the mirror folder"
    else:
        mirror_note = f"{cache.MIRROR_VAR} is not usable" if broken else "no mirror set"
    if cache.offline():
        return ("FAIL", f"not cached, {mirror_note}, and EDGELAB_OFFLINE=1 skips the internet",
                "set EDGELAB_MIRROR to the classroom mirror (the teacher's edgelab data serve "
                "prints its address), or unset EDGELAB_OFFLINE on a connected machine")
    url = missing[0].urls[0] if missing[0].urls else (ds.archive.url if ds.archive else "")
    if not url:
        return "FAIL", f"not cached, {mirror_note}, and no download address", \
            "set EDGELAB_MIRROR to a mirror that has it"
    ok, reason = probe_url(url)
    host = urllib.parse.urlparse(url).netloc
    if ok:
        return "warn", f"not cached; reachable online ({host}){share}", prepare
    return ("FAIL", f"not cached, {mirror_note}, and {host} is not reachable ({reason})",
            "connect to the internet, or set EDGELAB_MIRROR to the classroom mirror (the "
            "teacher's edgelab data serve prints its address)")


def check_mirror() -> Check | None:
    from edgelab.datasets import cache

    value = os.environ.get(cache.MIRROR_VAR, "").strip()
    if not value:
        return None
    try:
        mirror = cache.mirror()
    except cache.DataError:
        return Check("data mirror", "FAIL", f"{cache.MIRROR_VAR}={value!r} is not a folder",
                     f"point {cache.MIRROR_VAR} at the mirror folder or http:// address, or "
                     "unset it", blocks=list(catalogue.LESSONS))
    if "://" in mirror:
        ok, reason = probe_url(mirror + "/")
        if not ok:
            return Check("data mirror", "FAIL", f"{mirror} does not answer ({reason})",
                         "check the address the teacher's edgelab data serve printed, and that "
                         "this machine is on the same network", blocks=list(catalogue.LESSONS))
        return Check("data mirror", "ok", f"{mirror} answers")
    return Check("data mirror", "ok", f"folder {mirror}")


def check_data(selected: list[catalogue.Lesson]) -> list[Check]:
    from edgelab.datasets import registry

    users: dict[str, list[str]] = {}
    for lesson in selected:
        for name in lesson.datasets:
            users.setdefault(name, []).append(lesson.number)
    checks = []
    for name, numbers in users.items():
        ds = registry.get(name)
        status, detail, fix = _data_source(ds)
        checks.append(Check(f"data: {name}", status, detail, fix,
                            blocks=numbers if status == "FAIL" else []))
    return checks


def check_models(selected: list[catalogue.Lesson]) -> list[Check]:
    checks = []
    for lesson in selected:
        for h in lesson.handovers:
            name = f"model for {lesson.number}"
            found = h.present()
            if found:
                checks.append(Check(name, "ok", f"{h.what}: there ({found})"))
            elif h.producer == lesson.number:
                checks.append(Check(name, "warn", f"{h.what}: not there yet; the lesson trains "
                                    "it in class", f"edgelab prepare {lesson.number}"))
            else:
                checks.append(Check(name, "warn", f"{h.what}: not there; {h.without}",
                                    f"run notebook {h.producer} first, or edgelab prepare "
                                    f"{lesson.number}"))
        for b in lesson.builds:
            name = f"build for {lesson.number}"
            if b.done():
                checks.append(Check(name, "ok", f"{b.what}: ready"))
            else:
                checks.append(Check(name, "warn", f"{b.what}: not there yet; the lesson makes "
                                    "them on first use", f"edgelab prepare {lesson.number}"))
    return checks


def _engine_line(engine: str, gpu: bool, tpu: bool) -> tuple[str, str, str]:
    """(status, detail, fix) for what ``engine`` can use here, read from its files."""
    if engine == "tensorflow":
        if not importable("tensorflow"):
            return "warn", "not installed", ""
        info = package_file("tensorflow", "python/platform/build_info.py") or ""
        # build_info = OrderedDict([..., ('is_cuda_build', True), ...]) in TF 2.x wheels
        cuda = re.search(r"""['"]is_cuda_build['"]\s*[,:]\s*True""", info) is not None
        if gpu and not cuda:
            return "warn", "a build without CUDA: it will use the CPU only", \
                "pip install 'tensorflow[and-cuda]' (Linux), or use Colab's own TensorFlow"
        if tpu:
            return "ok", "CPU (TensorFlow does not drive TPU VMs; notebook 01 uses JAX there)", ""
        return "ok", "CPU and the GPU (a CUDA build)" if gpu else \
            "CPU" + (" (a CUDA build, no GPU here)" if cuda else ""), ""
    if engine == "jax":
        if not importable("jax"):
            return "warn", "not installed (the TPU engine of notebook 01)", ""
        plugins = [d for d in ("jax-cuda12-plugin", "jax-cuda13-plugin", "libtpu")
                   if distribution_version(d)]
        if gpu and not any("cuda" in p for p in plugins):
            return "warn", "CPU only: no jax CUDA plugin installed", \
                "pip install 'jax[cuda12]' at the installed jax version"
        if tpu and "libtpu" not in plugins:
            return "warn", "CPU only: libtpu is not installed", "pip install 'jax[tpu]'"
        return "ok", "CPU" + ("".join(f", {p}" for p in plugins) if plugins else ""), ""
    if engine == "torch":
        if not importable("torch"):
            return "warn", "not installed", catalogue.TORCH_EXTRA_FIX
        text = package_file("torch", "version.py") or ""
        m = re.search(r"^cuda\s*(?::[^=]*)?=\s*['\"]([^'\"]+)['\"]", text, re.M)
        if gpu and not m:
            return "ok", "CPU (a CPU build: notebook 08's model is small, the CPU is enough)", ""
        return "ok", f"CPU and CUDA {m.group(1)}" if m else "CPU", ""
    if engine == "chainer":
        return "ok", "CPU (NumPy); a GPU would need CuPy, which edgelab does not install", ""
    return "ok", "", ""


def check_accelerators(selected: list[catalogue.Lesson], deep: bool = False) -> list[Check]:
    name, how = accelerator()
    gpu = name not in ("none", "TPU")
    tpu = name == "TPU"
    detail = "none: the quick profile runs on the CPU" if name == "none" else f"{name} ({how})"
    checks = [Check("accelerator", "ok", detail)]
    engines = [e for e in ("tensorflow", "jax", "torch", "chainer")
               if any(e in l.engines for l in selected)]
    for engine in engines:
        status, text, fix = _engine_line(engine, gpu, tpu)
        if deep and engine != "chainer" and importable(engine):
            ok, seen = deep_devices(engine)
            text = f"sees {seen}" if ok else seen
            if not ok:
                status = "FAIL"
            elif gpu and engine != "jax" and "GPU" not in seen and "CUDA" not in seen:
                status, fix = "warn", fix or "its GPU libraries do not load; see the engine's GPU setup"
        users = [l.number for l in selected if engine in l.engines]
        checks.append(Check(f"{engine} devices", status, text, fix,
                            blocks=users if status == "FAIL" else []))
    return checks


def check_colab() -> Check | None:
    if not on_colab():
        return None
    name, _ = accelerator()
    if name == "TPU":
        return Check("Colab runtime", "warn", "TPU: no TensorFlow, so only notebook 01 (with "
                     "JAX) runs", "Runtime > Change runtime type > T4 GPU for the other lessons")
    if name == "none":
        return Check("Colab runtime", "ok", "CPU: the quick profile runs; the full one needs a GPU",
                     "for the full profile: Runtime > Change runtime type > T4 GPU")
    return Check("Colab runtime", "ok", f"GPU ({name}): the full profile runs")


def _profile() -> profiles.Choice:
    try:
        return profiles.choice(accelerator=accelerator())
    except profiles.ProfileError:
        return profiles.choice(environ={}, accelerator=accelerator())


def check_profile(selected: list[catalogue.Lesson], rows: list[dict]) -> list[Check]:
    checks = []
    raw = os.environ.get(profiles.ENV_VAR, "").strip()
    try:
        chosen = profiles.choice(accelerator=accelerator())
    except profiles.ProfileError as err:
        return [Check("profile", "FAIL", str(err).split(";")[0],
                      f"{profiles.ENV_VAR}=quick or {profiles.ENV_VAR}=full, or unset it",
                      blocks=list(catalogue.LESSONS))]
    checks.append(Check("profile", "ok", f"{chosen.profile} ({chosen.reason})"
                        + (f"; {profiles.ENV_VAR}={raw}" if raw and raw not in chosen.reason else "")))
    notebooks = [l.notebook for l in selected if l.notebook is not None]
    if notebooks:
        from edgelab.run import plan as planning

        plan = planning.make_plan(notebooks, chosen.profile, reason=chosen.reason, rows=rows,
                                  accelerator=accelerator(), calibrate=False)
        known = [e for e in plan.estimates if e.minutes is not None]
        if known:
            rough = any(e.rough for e in known)
            missing = len(plan.estimates) - len(known)
            text = (f"{'~' if rough else ''}{planning.duration(plan.total_minutes)} of "
                    f"computing for {len(known)} notebook(s) here ({chosen.profile})"
                    + (f"; {missing} without an estimate" if missing else ""))
            long = [e for e in known if e.minutes > planning.HOUR_ADVICE_MINUTES]
            if long and plan.accelerator == "none":
                checks.append(Check("time", "warn", text + f"; {', '.join(e.notebook[:2] for e in long)} "
                                    "over an hour on this CPU", "a GPU runtime, or "
                                    f"{profiles.ENV_VAR}=quick"))
            else:
                checks.append(Check("time", "ok", text))
        else:
            checks.append(Check("time", "ok", "no run recorded on a comparable machine yet "
                                "(edgelab run --plan says more)"))
    return checks


def _needs(selected, rows, profile: str, hardware: str, suffix: str) -> dict[str, float]:
    found = {}
    for lesson in selected:
        value = _newest_value(rows, f"run.{lesson.stem}.{suffix}", profile, hardware)
        if value is not None:
            found[lesson.number] = value
    return found


def check_memory(selected: list[catalogue.Lesson], rows: list[dict]) -> Check:
    profile = _profile().profile
    peaks = _needs(selected, rows, profile, machine.hardware_line(), "peak_memory")
    total, available = memory()
    have = f"{_mb(total)} RAM, {_mb(available)} free"
    if not peaks:
        return Check("memory", "ok", f"{have}; no peak recorded for these lessons ({profile})")
    worst = max(peaks, key=peaks.get)
    need = peaks[worst] * 2**20
    text = f"{have}; the most a lesson used in a recorded {profile} run: {_mb(need)} ({worst})"
    if total < need:
        return Check("memory", "FAIL", text, "a machine (or Colab runtime) with more memory",
                     blocks=[n for n, v in peaks.items() if v * 2**20 > total])
    if available < need:
        return Check("memory", "warn", text, "close other programs (browser tabs, other notebooks' kernels)")
    return Check("memory", "ok", text)


def check_disk(selected: list[catalogue.Lesson], rows: list[dict]) -> Check:
    from edgelab.datasets import cache, registry

    profile = _profile().profile
    hardware = machine.hardware_line()
    data_missing = 0
    unknown = []
    for name in dict.fromkeys(n for l in selected for n in l.datasets):
        ds = registry.get(name)
        absent = [f for f in ds.files if not cache.cache_path(f).is_file()]
        if absent:
            if ds.size is None:
                unknown.append(name)
            else:
                data_missing += ds.size * len(absent) / len(ds.files)
    written = _needs(selected, rows, profile, hardware, "outputs_mb")
    built = _needs(selected, rows, profile, hardware, "home_mb")
    home, outputs = paths.home(), _outputs_dir()
    need_home = data_missing + sum(built.values()) * 1e6
    need_out = sum(written.values()) * 1e6
    free_home = disk_free(home)
    same = device_of(home) == device_of(outputs)
    parts = [f"data to fetch {_mb(data_missing)}"]
    if built:
        parts.append(f"builds {_mb(sum(built.values()) * 1e6)}")
    if written:
        parts.append(f"notebook outputs {_mb(need_out)} (recorded {profile} runs)")
    else:
        parts.append(f"notebook outputs unknown (no {profile} run recorded with them)")
    if unknown:
        parts.append(f"size unknown: {', '.join(unknown)}")
    at_least = "at least " if not written or unknown else ""
    if same:
        need, free = need_home + need_out, free_home
        text = f"{_mb(free)} free; needs {at_least}{_mb(need)}: " + ", ".join(parts)
    else:
        free_out = disk_free(outputs)
        need, free = max(need_home, need_out), min(free_home, free_out)
        text = (f"{_mb(free_home)} free for the data cache, {_mb(free_out)} for outputs; "
                + ", ".join(parts))
        if free_home < need_home or free_out < need_out:
            free = -1
    fix = (f"free some space, or set EDGELAB_HOME (data, builds) and EDGELAB_OUT (outputs) "
           f"to a disk with room")
    if free < need or free < 0:
        return Check("disk", "FAIL", text, fix, blocks=[l.number for l in selected])
    if free < 2 * need:
        return Check("disk", "warn", text + "; little room to spare", fix)
    return Check("disk", "ok", text)


# --------------------------------------------------------------------------- the report

def run_checks(selected: list[catalogue.Lesson], *, deep: bool = False) -> list[Check]:
    """Every check for ``selected``, in the order they are printed. A check that breaks
    becomes a ``warn`` row naming the error, never a traceback."""
    rows: list[dict] = []
    try:
        rows = recorded_rows()
    except Exception:  # noqa: BLE001 - a damaged results file costs only the measured needs
        rows = []
    steps = [
        ("Python", check_python), ("edgelab", check_edgelab),
        ("profile", lambda: check_profile(selected, rows)),
        ("Colab runtime", check_colab),
        ("packages", lambda: check_packages(selected)),
        ("accelerator", lambda: check_accelerators(selected, deep)),
        ("data mirror", check_mirror),
        ("data", lambda: check_data(selected)),
        ("models", lambda: check_models(selected)),
        ("memory", lambda: check_memory(selected, rows)),
        ("disk", lambda: check_disk(selected, rows)),
    ]
    checks: list[Check] = []
    for name, step in steps:
        try:
            found = step()
        except Exception as err:  # noqa: BLE001 - a broken probe must not hide the others
            found = Check(name, "warn", f"could not check: {type(err).__name__}: {err}"[:300])
        if found is None:
            continue
        checks += found if isinstance(found, list) else [found]
    return checks


def blocked(checks: list[Check], selected: list[catalogue.Lesson]) -> dict[str, list[str]]:
    """Lesson number -> the checks that stop it (only lessons that cannot run)."""
    out: dict[str, list[str]] = {}
    numbers = {l.number for l in selected}
    for c in checks:
        if c.status == "FAIL":
            for n in c.blocks or []:
                if n in numbers:
                    out.setdefault(n, []).append(c.check)
    return out


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=True, break_on_hyphens=False) or [""]


def table(checks: list[Check], width: int | None = None) -> str:
    """The checks as a plain-text table with wrapped columns."""
    width = width or max(100, min(160, shutil.get_terminal_size((120, 20)).columns))
    c1 = max(len("check"), *(len(c.check) for c in checks))
    c2 = len("status")
    rest = max(40, width - c1 - c2 - 6)
    c3 = rest * 11 // 20
    c4 = rest - c3
    lines = [f"{'check':<{c1}}  {'status':<{c2}}  {'detail':<{c3}}  fix",
             f"{'-' * c1}  {'-' * c2}  {'-' * c3}  {'-' * min(c4, 40)}"]
    for c in checks:
        left, right = _wrap(c.detail, c3), _wrap(c.fix, c4)
        for i in range(max(len(left), len(right))):
            first = i == 0
            lines.append(f"{c.check if first else '':<{c1}}  {c.status if first else '':<{c2}}  "
                         f"{left[i] if i < len(left) else '':<{c3}}  "
                         f"{right[i] if i < len(right) else ''}".rstrip())
    return "\n".join(lines)


def markdown(checks: list[Check]) -> str:
    esc = lambda s: s.replace("|", "/")  # noqa: E731
    rows = ["| check | status | detail | fix |", "|---|---|---|---|"]
    rows += [f"| {esc(c.check)} | {c.status} | {esc(c.detail)} | {esc(c.fix)} |" for c in checks]
    return "\n".join(rows)


def summary(checks: list[Check], selected: list[catalogue.Lesson]) -> list[str]:
    stops = blocked(checks, selected)
    warned = sum(c.status == "warn" for c in checks)
    parts = []
    for lesson in selected:
        why = stops.get(lesson.number)
        parts.append(f"{lesson.number} ok" if not why else
                     f"{lesson.number} CANNOT RUN ({', '.join(why)})")
    lines = ["lessons: " + ", ".join(parts)]
    if stops:
        lines.append(f"{len(stops)} lesson(s) cannot run here: see the FAIL rows and their fix.")
    elif warned:
        lines.append(f"every lesson asked about can run; {warned} warning(s) say what it will "
                     "cost in class (edgelab prepare does most of it now).")
    else:
        lines.append("every lesson asked about can run here.")
    return lines


EXAMPLES = """examples:
  edgelab doctor                 every lesson: can it run here, and what to fix
  edgelab doctor 05              only what notebook 05 needs
  edgelab doctor 03 07 --deep    also import each engine to list the devices it sees
  edgelab doctor --format markdown > doctor.md   a table to paste into a chat or an issue

Statuses: ok; warn (it runs, at a cost the detail names); FAIL (a lesson cannot run).
The exit status is 1 when a lesson asked about cannot run."""


def register(subparsers) -> None:
    import argparse

    p = subparsers.add_parser(
        "doctor", help="check that the lessons can run here (the pre-flight for a workshop)",
        description="Check this machine or Colab runtime for the lessons: Python, the stack's "
                    "versions, data and models, accelerators, memory and disk; print a table "
                    "with a fix for every failure and which lessons can run.",
        epilog=EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("lessons", nargs="*", metavar="LESSON",
                   help="lesson numbers or notebooks (default: all), e.g. 05")
    p.add_argument("--deep", action="store_true",
                   help="import TensorFlow, JAX and PyTorch (in child processes, up to a few "
                        "minutes) to list the devices each one sees")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), a Markdown table, or JSON")
    p.set_defaults(func=_cli)


def _cli(args) -> int:
    try:
        selected = catalogue.select(args.lessons)
    except catalogue.UnknownLesson as err:
        print(f"edgelab doctor: {err}", file=sys.stderr)
        return 2
    try:
        checks = run_checks(selected, deep=args.deep)
        stops = blocked(checks, selected)
        if args.format == "json":
            print(json.dumps({"machine": machine.hardware_line(), "platform": platform.platform(),
                              "checks": [asdict(c) for c in checks],
                              "cannot_run": stops}, indent=1))
        else:
            print(markdown(checks) if args.format == "markdown" else table(checks))
            print()
            print("\n".join(summary(checks, selected)))
    except Exception as err:  # noqa: BLE001 - the pre-flight itself must never show a traceback
        print(f"edgelab doctor: could not finish ({type(err).__name__}: {err})", file=sys.stderr)
        return 1
    return 1 if stops else 0
