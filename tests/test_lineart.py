"""Line-art extraction (edgelab.lineart), the synthetic illustration and its scores,
the batch command and the pair builder."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edgelab import lineart as L
from edgelab.lineart import synthetic as S
from edgelab.run.cli import main as cli_main


def _canvas(h=40, w=40, value=230):
    return np.full((h, w, 3), value, np.uint8)


def _vertical_line(width, h=40, w=40, x=18, dark=20, paper=230):
    img = _canvas(h, w, paper)
    img[5:35, x:x + width] = dark
    return img


def _runs(row):
    return S._runs(np.asarray(row, bool))


# ------------------------------------------------------------------------- the method

def test_thin_stroke_comes_out_once_and_exactly_where_it_was():
    img = _vertical_line(3)
    art = L.extract_line_art(img, kernel=5)
    assert art.dtype == np.uint8 and art.shape == (40, 40)
    assert set(np.unique(art)) == {0, 255}
    expected = np.full((40, 40), 255, np.uint8)
    expected[5:35, 18:21] = 0
    np.testing.assert_array_equal(art, expected)


def test_stroke_wider_than_the_kernel_comes_out_hollow():
    # kernel 3 paints over strokes up to 2 px; a 3 px stroke keeps its dark core -> two lines
    row = L.extract_line_art(_vertical_line(3), kernel=3)[20] == 0
    assert _runs(row) == [(18, 19), (20, 21)]
    assert L.LineArtExtractor(kernel=3).max_erased_width == 2
    assert L.LineArtExtractor(kernel=3, iterations=2).max_erased_width == 4
    row = L.extract_line_art(_vertical_line(3), kernel=3, iterations=2)[20] == 0
    assert _runs(row) == [(18, 21)]


def test_flat_image_gives_blank_paper():
    for mode in L.MODES:
        assert (L.extract_line_art(_canvas(value=90), mode=mode) == 255).all()


def test_modes_and_fixed_threshold():
    img = _vertical_line(3, dark=120)  # difference 110 -> inverted 145
    steps = L.LineArtExtractor(mode="gray").steps(img)
    assert steps.threshold is None
    assert set(np.unique(steps.line_art)) == {145, 255}
    np.testing.assert_array_equal(steps.inverted, 255 - (steps.dilated - steps.gray))
    assert set(np.unique(L.extract_line_art(img, threshold=150))) == {0, 255}
    assert (L.extract_line_art(img, threshold=140) == 255).all()   # 145 > 140: paper
    soft = L.extract_line_art(img, threshold=150, mode="soft")
    assert set(np.unique(soft)) == {145, 255}
    otsu = L.LineArtExtractor().steps(img)
    assert 145 <= otsu.threshold < 255 and (otsu.line_art[20, 18:21] == 0).all()


def test_colour_order_gray_and_alpha_inputs_agree():
    rng = np.random.default_rng(0)
    rgb = (rng.integers(0, 4, (32, 48, 3)) * 80).astype(np.uint8)
    ref = L.extract_line_art(rgb)
    np.testing.assert_array_equal(L.extract_line_art(rgb[..., ::-1], channel_order="bgr"), ref)
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    np.testing.assert_array_equal(L.extract_line_art(gray), ref)
    np.testing.assert_array_equal(L.extract_line_art(gray[..., None]), ref)
    opaque = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    np.testing.assert_array_equal(L.extract_line_art(opaque), ref)
    np.testing.assert_array_equal(L.extract_line_art(np.dstack([gray, opaque[..., 3]])), ref)


def test_transparent_pixels_are_white_paper():
    img = np.zeros((30, 30, 4), np.uint8)             # black but fully transparent
    img[10:20, 14:17] = (0, 0, 0, 255)                # an opaque black stroke
    art = L.extract_line_art(img)
    assert (art[10:20, 14:17] == 0).all() and art.sum() == 255 * (900 - 30)
    half = np.array([[[0, 0, 0, 128]]], np.uint8)
    assert L.composite_on_white(half)[0, 0, 0] == 127  # 255 * (1 - 128/255), rounded
    half[0, 0, :3] = 1
    assert L.composite_on_white(half)[0, 0, 0] == 128  # (1 * 128 + 255 * 127) / 255 = 127.502


def test_16_bit_input_matches_8_bit():
    rng = np.random.default_rng(1)
    img8 = rng.integers(0, 256, (24, 24, 4), dtype=np.uint8)
    img16 = img8.astype(np.uint16) * 257
    for mode in L.MODES:
        np.testing.assert_array_equal(L.extract_line_art(img16, mode=mode),
                                      L.extract_line_art(img8, mode=mode))
    assert L.to_8bit(np.array([0, 128, 65535], np.uint16)).tolist() == [0, 0, 255]


@pytest.mark.parametrize("seed", range(6))
def test_numpy_reference_is_bit_identical_to_opencv(seed):
    rng = np.random.default_rng(seed)
    for _ in range(25):
        h, w = (int(v) for v in rng.integers(1, 45, 2))
        channels = int(rng.integers(0, 5))
        dtype = (np.uint8, np.uint16)[int(rng.integers(0, 2))]
        img = rng.integers(0, np.iinfo(dtype).max + 1, (h, w, channels) if channels else (h, w),
                           dtype=dtype)
        if rng.random() < 0.5:
            img = (img // (np.iinfo(dtype).max // 4) * (np.iinfo(dtype).max // 4)).astype(dtype)
        mode = str(rng.choice(L.MODES))
        thr = None if mode == "gray" or rng.random() < 0.5 else int(rng.integers(0, 256))
        args = dict(kernel=int(rng.choice([1, 3, 5, 7])), iterations=int(rng.integers(1, 3)),
                    threshold=thr, mode=mode, channel_order=str(rng.choice(L.CHANNEL_ORDERS)))
        a = L.LineArtExtractor(**args).steps(img)
        b = L.LineArtExtractor(**args, backend="numpy").steps(img)
        for name in ("gray", "dilated", "difference", "inverted", "line_art"):
            np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=f"{name} {args}")
        assert a.threshold == b.threshold


def test_numpy_pieces_match_opencv():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (64, 80, 3), dtype=np.uint8)
    np.testing.assert_array_equal(L.gray_numpy(img), cv2.cvtColor(img, cv2.COLOR_RGB2GRAY))
    np.testing.assert_array_equal(L.gray_numpy(img, "bgr"), cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
    g = img[..., 0]
    np.testing.assert_array_equal(L.dilate_numpy(g, 7), cv2.dilate(g, np.ones((7, 7), np.uint8)))
    for _ in range(50):
        levels = rng.integers(0, 256, int(rng.integers(1, 6)))
        sample = rng.choice(levels, (int(rng.integers(1, 30)), 17)).astype(np.uint8)
        expected = cv2.threshold(sample, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0]
        assert L.otsu_threshold(sample) == expected


def test_real_photo_same_with_both_backends(shared_home):
    from edgelab.datasets import samples

    img = samples.load_image("chelsea.png")
    art = L.extract_line_art(img)
    np.testing.assert_array_equal(art, L.extract_line_art_numpy(img))
    share = float((art == 0).mean())
    assert 0.01 < share < 0.5, f"line pixels should be a minority but present, got {share:.3f}"


# ------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("image, error, match", [
    ([[1, 2], [3, 4]], TypeError, "must be a NumPy array"),
    (np.zeros((4, 4), np.float32), TypeError, "dtype must be uint8 or uint16, got float32"),
    (np.zeros((4, 4), np.int16), TypeError, "uint8 or uint16, got int16"),
    (np.zeros((4, 4), bool), TypeError, "got bool"),
    (np.zeros((0, 5, 3), np.uint8), ValueError, "image is empty"),
    (np.zeros((5, 0), np.uint8), ValueError, "image is empty"),
    (np.zeros((4, 4, 5), np.uint8), ValueError, "got 5 .shape"),
    (np.zeros((4, 4, 0), np.uint8), ValueError, "got 0 .shape"),
    (np.zeros((2, 4, 4, 3), np.uint8), ValueError, r"shape \(H, W\) or \(H, W, C\)"),
    (np.zeros(7, np.uint8), ValueError, r"shape \(H, W\) or \(H, W, C\)"),
])
def test_bad_images_get_clear_errors(image, error, match):
    for backend in L.BACKENDS:
        with pytest.raises(error, match=match):
            L.LineArtExtractor(backend=backend)(image)


@pytest.mark.parametrize("kwargs, match", [
    (dict(kernel=4), "kernel must be an odd integer"),
    (dict(kernel=0), "kernel must be an odd integer"),
    (dict(kernel=True), "kernel must be an odd integer"),
    (dict(kernel=5.0), "kernel must be an odd integer"),
    (dict(iterations=0), "iterations must be an integer >= 1"),
    (dict(threshold=256), "threshold must be an integer 0..255"),
    (dict(threshold=-1), "threshold must be an integer 0..255"),
    (dict(threshold=0.5), "threshold must be an integer 0..255"),
    (dict(threshold=100, mode="gray"), "takes no threshold"),
    (dict(mode="canny"), "mode must be one of binary, soft, gray"),
    (dict(channel_order="rbg"), "channel_order must be 'rgb' or 'bgr'"),
    (dict(backend="torch"), "backend must be one of opencv, numpy"),
])
def test_bad_settings_get_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        L.LineArtExtractor(**kwargs)


# ------------------------------------------------------------------------- synthetic art

def test_illustration_is_deterministic_and_its_outline_has_the_drawn_width():
    a, b = S.draw_illustration(), S.draw_illustration()
    np.testing.assert_array_equal(a.image, b.image)
    np.testing.assert_array_equal(a.outline, b.outline)
    assert a.image.shape == (S.SIZE, S.SIZE, 3) and a.outline.dtype == bool
    # every outline pixel has the outline colour, and no other pixel does
    is_ink = (a.image == S.OUTLINE_RGB).all(axis=-1)
    np.testing.assert_array_equal(is_ink, a.outline)
    profile = S.stroke_profile(a.outline, a.outline)
    assert profile.crossings > 1000
    assert np.median(profile.truth_thickness) == S.STROKE
    assert profile.share(1) == 1.0
    with pytest.raises(ValueError, match="odd width"):
        S.draw_illustration(stroke=4)


def test_precision_recall_tolerance():
    truth = np.zeros((20, 20), bool)
    truth[5:15, 10] = True
    shifted = np.roll(truth, 1, axis=1)
    assert S.precision_recall(truth, truth, 0) == (1.0, 1.0)
    assert S.precision_recall(shifted, truth, 0) == (0.0, 0.0)
    assert S.precision_recall(shifted, truth, 1) == (1.0, 1.0)
    assert S.precision_recall(np.zeros_like(truth), truth) == (0.0, 0.0)
    with pytest.raises(ValueError, match="differ in shape"):
        S.precision_recall(truth[:5], truth)
    with pytest.raises(ValueError, match="tolerance"):
        S.precision_recall(truth, truth, -1)


def test_stroke_profile_counts_double_lines():
    truth = np.zeros((30, 30), bool)
    truth[5:25, 12:15] = True                # one vertical stroke, 3 px
    double = np.zeros_like(truth)
    double[5:25, 11] = double[5:25, 15] = True   # its two edges
    one = S.stroke_profile(truth, truth)
    two = S.stroke_profile(double, truth)
    assert one.crossings == two.crossings == 20   # rows; columns run along the stroke
    assert one.strokes_median == 1 and one.thickness_mean == 3
    assert two.strokes_median == 2 and two.share(2) == 1.0 and two.thickness_mean == 1


def test_dilate_diff_draws_one_line_per_outline_and_canny_two():
    ill = S.draw_illustration()
    ours = S.line_mask(L.extract_line_art(ill.image))
    canny = S.line_mask(L.canny_lines(ill.image))
    p, r = S.precision_recall(ours, ill.outline)
    assert p > 0.95 and r > 0.95
    mine, theirs = S.stroke_profile(ours, ill.outline), S.stroke_profile(canny, ill.outline)
    assert mine.share(1) > 0.95 and abs(mine.thickness_mean - S.STROKE) < 1
    assert theirs.share(2) > 0.9 and theirs.thickness_mean < 1.5
    for name, method in L.EDGE_METHODS.items():
        art = method(ill.image)
        assert art.dtype == np.uint8 and art.shape == ill.outline.shape, name


# ------------------------------------------------------------------------- files and CLI

def _write(path, image):
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), image)
    return path


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "src"
    ill = cv2.cvtColor(S.draw_illustration(size=128, stroke=3).image, cv2.COLOR_RGB2BGR)
    _write(src / "a.png", ill)
    _write(src / "sub" / "b.jpg", ill)
    _write(src / "c.png", np.dstack([ill, np.full(ill.shape[:2], 255, np.uint8)]).astype(np.uint16) * 257)
    (src / "broken.png").write_bytes(b"not a png at all")
    (src / "notes.txt").write_text("not an image")
    return src


def test_cli_converts_a_folder_skips_unreadable_and_refuses_overwrite(folder, tmp_path, capsys):
    dest = tmp_path / "out"
    assert cli_main(["lineart", str(folder), str(dest), "--no-progress"]) == 0
    out, err = capsys.readouterr()
    assert "wrote 3 file(s), skipped 1 unreadable file(s), ignored 1 non-image file(s)" in out
    assert "broken.png" in err
    written = sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*"))
    assert written == ["a.png", "c.png", "sub", "sub/b.png"]
    art = cv2.imread(str(dest / "a.png"), cv2.IMREAD_UNCHANGED)
    ill = S.draw_illustration(size=128, stroke=3).image
    np.testing.assert_array_equal(art, L.extract_line_art(ill))
    np.testing.assert_array_equal(cv2.imread(str(dest / "c.png"), cv2.IMREAD_UNCHANGED), art)

    before = (dest / "a.png").stat().st_mtime_ns
    assert cli_main(["lineart", str(folder), str(dest), "--no-progress"]) == 1
    assert "a.png already exists (and 2 more); nothing was written" in capsys.readouterr().err
    assert (dest / "a.png").stat().st_mtime_ns == before
    assert cli_main(["lineart", str(folder), str(dest), "--no-progress", "--force",
                     "--kernel", "3", "--mode", "gray"]) == 0
    assert len(np.unique(cv2.imread(str(dest / "a.png"), cv2.IMREAD_UNCHANGED))) > 2
    assert not list(dest.rglob("*.part*"))


def test_cli_single_file_and_bad_arguments(folder, tmp_path, capsys):
    target = tmp_path / "one" / "cat_lines.png"
    assert cli_main(["lineart", str(folder / "a.png"), str(target), "--no-progress"]) == 0
    assert cv2.imread(str(target), cv2.IMREAD_UNCHANGED).ndim == 2
    assert cli_main(["lineart", str(folder / "a.png"), str(tmp_path / "dir"), "--no-progress"]) == 0
    assert (tmp_path / "dir" / "a.png").is_file()
    capsys.readouterr()
    assert cli_main(["lineart", str(folder), str(tmp_path / "x"), "--kernel", "4"]) == 2
    assert "kernel must be an odd integer" in capsys.readouterr().err
    assert cli_main(["lineart", str(folder), str(tmp_path / "x"), "--mode", "gray",
                     "--threshold", "9"]) == 2
    assert cli_main(["lineart", str(tmp_path / "missing"), str(tmp_path / "x")]) == 2   # a bad argument
    assert "no such file or folder" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_cli_nothing_readable_is_an_error(tmp_path, capsys):
    src = tmp_path / "bad"
    src.mkdir()
    (src / "x.jpg").write_bytes(b"\xff\xd8 truncated")
    assert cli_main(["lineart", str(src), str(tmp_path / "out"), "--no-progress"]) == 1
    assert "no image could be processed" in capsys.readouterr().err


def read_file_label_tsv(tsv):
    """The `file<TAB>label` format notebook 04's data set reads: paths relative to the
    TSV's folder (or absolute), integer labels."""
    rows = []
    for line in tsv.read_text(encoding="utf-8").splitlines():
        file, label = line.split("\t")
        path = tsv.parent / file
        assert path.is_file(), path
        rows.append((path, int(label)))
    return rows


def test_pairs_and_index_files(folder, tmp_path, capsys):
    dest = tmp_path / "pairs"
    assert cli_main(["lineart", str(folder), str(dest), "--pairs", "--max-side", "100",
                     "--no-progress"]) == 0
    assert "3 pairs" in capsys.readouterr().out
    pairs = L.read_pairs(dest)
    # sources sorted: a.png, broken.png (skipped, id 1), c.png, sub/b.jpg
    assert [i for _, _, i in pairs] == [0, 2, 3]
    assert [p.name for p, _, _ in pairs] == ["00000_a.png", "00002_c.png", "00003_b.png"]
    header, *rows = (dest / "pairs.tsv").read_text().splitlines()
    assert header == "lineart\tcolour\tid\tsource"
    assert rows[2].split("\t")[3] == "sub/b.jpg"
    lines, colours = read_file_label_tsv(dest / "lineart.tsv"), read_file_label_tsv(dest / "colour.tsv")
    assert [label for _, label in lines] == [label for _, label in colours] == [0, 2, 3]
    for (line_path, colour_path, _), (l2, _), (c2, _) in zip(pairs, lines, colours):
        assert line_path == l2 and colour_path == c2
        art = cv2.imread(str(line_path), cv2.IMREAD_UNCHANGED)
        colour = cv2.imread(str(colour_path), cv2.IMREAD_UNCHANGED)
        assert art.shape == (100, 100) and colour.shape == (100, 100, 3)
        np.testing.assert_array_equal(art, L.extract_line_art(colour, channel_order="bgr"))
    assert cli_main(["lineart", str(folder), str(dest), "--pairs", "--no-progress"]) == 1
    assert "already exists" in capsys.readouterr().err


def test_build_pairs_from_a_list_and_read_pairs_errors(folder, tmp_path):
    files = [folder / "a.png", folder / "sub" / "b.jpg"]
    result = L.build_pairs(files, tmp_path / "p", progress=False)
    assert len(result.pairs) == 2 and not result.skipped
    assert (tmp_path / "p" / "pairs.tsv").read_text().splitlines()[1].endswith(str(files[0].resolve()))
    with pytest.raises(FileExistsError, match="pairs.tsv already exists"):
        L.build_pairs(files, tmp_path / "p", progress=False)
    assert len(L.build_pairs(files, tmp_path / "p", force=True, progress=False).pairs) == 2
    with pytest.raises(FileNotFoundError, match="no pair index"):
        L.read_pairs(tmp_path)
    with pytest.raises(ValueError, match="max_side must be a positive integer"):
        L.limit_size(np.zeros((4, 4), np.uint8), 0)


def test_output_folder_inside_the_source_is_not_read_back(folder, capsys):
    dest = folder / "lines"
    for _ in range(2):
        assert cli_main(["lineart", str(folder), str(dest), "--force", "--no-progress"]) == 0
        assert "wrote 3 file(s)" in capsys.readouterr().out
    assert not (dest / "lines").exists()


def test_same_stem_different_suffix_keeps_both(tmp_path):
    src = tmp_path / "src"
    ill = cv2.cvtColor(S.draw_illustration(size=64, stroke=1).image, cv2.COLOR_RGB2BGR)
    _write(src / "a.png", ill)
    _write(src / "a.jpg", ill)
    result = L.convert(src, tmp_path / "out", progress=False)
    assert sorted(p.name for p in result.written) == ["a_jpg.png", "a_png.png"]


def test_importing_lineart_does_not_import_opencv():
    import subprocess
    import sys

    code = "import sys, edgelab.lineart, edgelab.lineart.synthetic; print('cv2' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------ scores, scans, timing

def test_score_row_matches_its_parts_and_refuses_a_colour_image():
    ill = S.draw_illustration(size=128)
    art = L.extract_line_art(ill.image)
    profile, row = S.score(art, ill)
    assert list(row) == list(S.SCORE_COLUMNS)
    mask = S.line_mask(art)
    assert (row["precision"], row["recall"]) == S.precision_recall(mask, ill.outline, tolerance=1)
    assert row["1 stroke (share)"] == profile.share(1) and row["thickness (px)"] == profile.thickness_mean
    _, truth = S.score(np.where(ill.outline, 0, 255), ill)
    assert truth["precision"] == truth["recall"] == truth["1 stroke (share)"] == 1.0
    with pytest.raises(ValueError, match="convert colour results to gray"):
        S.score(np.dstack([art] * 3), ill)


def test_runs_along_a_row_or_a_column():
    art = np.full((10, 12), 255, np.uint8)
    art[4, 2:4] = 0
    art[4, 7:8] = 0
    art[1:3, 9] = 0
    assert S.runs_along(art, row=4) == [(2, 4), (7, 8)]
    assert S.runs_along(art, row=4, span=(3, 9)) == [(3, 4), (7, 8)]
    assert S.runs_along(art, column=9) == [(1, 3)]
    with pytest.raises(ValueError, match="exactly one"):
        S.runs_along(art, row=1, column=1)
    with pytest.raises(ValueError, match="outside"):
        S.runs_along(art, row=1, span=(5, 40))


def test_a_thin_dark_band_is_one_line_for_dilate_diff_and_two_for_canny():
    img = _canvas(40, 40, 200)
    img[:, 18:21] = 40                      # a 3-px dark band between two lighter regions
    assert len(S.runs_along(L.extract_line_art(img), row=20)) == 1
    assert len(S.runs_along(L.canny_lines(img), row=20)) == 2
    step = _canvas(40, 40, 200)
    step[:, :20] = 40                       # a step: one change of brightness
    assert len(S.runs_along(L.extract_line_art(step), row=20)) == 1
    assert len(S.runs_along(L.canny_lines(step), row=20)) == 1
    (start, end), = S.runs_along(L.extract_line_art(step), row=20)
    assert end <= 20 and end - start == 2   # on the dark side, kernel // 2 wide


def test_time_calls_warms_up_then_reports_median_and_quartiles():
    calls = []
    t = L.time_calls(lambda im: calls.append(im.shape), np.zeros((4, 4), np.uint8), runs=6, warmup=2)
    assert len(calls) == 8 and t.runs == 6
    assert 0 <= t.q1_ms <= t.median_ms <= t.q3_ms
    assert "IQR" in str(t)
    with pytest.raises(ValueError, match="at least 4"):
        L.time_calls(lambda im: None, np.zeros((2, 2), np.uint8), runs=2)


def test_scan_line_figure_draws_every_method():
    import matplotlib
    matplotlib.use("Agg")
    from edgelab.lineart import display

    img = _canvas(40, 40, 200)
    img[:, 18:21] = 40
    arts = {"dilate-diff": L.extract_line_art(img), "Canny": L.canny_lines(img)}
    fig = display.scan_line_figure(img, arts, crop=(0, 40, 0, 40), row=20, span=(10, 30))
    labels = fig.axes[-1].get_legend_handles_labels()[1]
    assert labels == ["gray level", "dilate-diff: 1 line", "Canny: 2 lines"]
    with pytest.raises(ValueError, match="exactly one"):
        display.scan_line_figure(img, arts, crop=(0, 40, 0, 40), span=(0, 5))
