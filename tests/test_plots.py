"""edgelab.plots.image_grid draws every image on one fixed scale unless asked otherwise."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from edgelab import plots  # noqa: E402


def _clims(fig):
    return [ax.images[0].get_clim() for ax in fig.axes if ax.images]


def test_gray_images_share_a_fixed_scale():
    faint = np.full((8, 8), 0.9, np.float32)       # a nearly white image ...
    faint[2:4, 2:4] = 0.8                           # ... with a slightly darker patch
    dark = np.zeros((8, 8), np.float32)
    fig = plots.image_grid([faint, dark], ["faint", "dark"])
    assert _clims(fig) == [(0.0, 1.0), (0.0, 1.0)]
    # the faint patch stays light gray: drawn at 0.8 of the way to white, not black
    rgba = fig.axes[0].images[0].to_rgba(faint)
    assert rgba[3, 3, 0] == pytest.approx(plt.get_cmap("gray")(0.8)[0], abs=0.01)
    plt.close(fig)


def test_uint8_and_uint16_ranges():
    fig = plots.image_grid([np.full((4, 4), 200, np.uint8), np.full((4, 4), 9, np.uint16)])
    assert _clims(fig) == [(0.0, 255.0), (0.0, 65535.0)]
    plt.close(fig)


def test_each_stretches_every_image_and_a_tuple_fixes_the_range():
    a = np.linspace(0.4, 0.6, 16, dtype=np.float32).reshape(4, 4)
    fig = plots.image_grid([a], value_range="each")
    lo, hi = _clims(fig)[0]
    assert (lo, hi) == pytest.approx((0.4, 0.6))
    plt.close(fig)
    fig = plots.image_grid([a * 10], value_range=(0, 10))
    assert _clims(fig) == [(0.0, 10.0)]
    plt.close(fig)


def test_crop_and_single_channel():
    img = np.arange(100, dtype=np.uint8).reshape(10, 10, 1)
    fig = plots.image_grid([img], crop=(2, 5, 3, 7), interpolation="nearest")
    shown = fig.axes[0].images[0].get_array()
    assert shown.shape == (3, 4) and shown[0, 0] == 23
    plt.close(fig)


def test_colour_images_are_scaled_to_unit_range():
    rgb = np.full((4, 4, 3), 255, np.uint8)
    fig = plots.image_grid([rgb])
    assert float(fig.axes[0].images[0].get_array().max()) == 1.0
    plt.close(fig)


@pytest.mark.parametrize("bad, match", [
    (np.full((4, 4), 1.5, np.float32), "outside|0..1"),
    (np.full((4, 4), -3, np.int16), "outside 0..255"),
])
def test_out_of_range_gray_images_are_refused(bad, match):
    with pytest.raises(ValueError, match=match):
        plots.image_grid([bad])
    plt.close("all")


def test_bad_arguments():
    img = np.zeros((4, 4), np.float32)
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid([img], ["a", "b"])
    with pytest.raises(ValueError, match="value_range"):
        plots.image_grid([img], value_range="auto")
    with pytest.raises(ValueError, match="high > low"):
        plots.image_grid([img], value_range=(1, 1))
    with pytest.raises(ValueError, match="shape"):
        plots.image_grid([np.zeros((4, 4, 5))])
    with pytest.raises(ValueError, match="at least one"):
        plots.image_grid([])
    plt.close("all")


def test_confusion_matrix_labels_its_colour_bar_and_names_a_class_never_predicted():
    fig = plots.confusion_matrix([0, 0, 1, 1, 2, 2], [0, 0, 0, 1, 0, 1], ["a", "b", "c"])
    bar = fig.axes[-1]
    assert bar.get_ylabel() == "share of the true class's images"
    title = fig.axes[0].get_title()
    assert "never predicted: c" in title and "numbers: counts" in title
    plt.close(fig)
    fig = plots.confusion_matrix([0, 1], [0, 1], ["a", "b"], normalize=False)
    assert fig.axes[-1].get_ylabel() == "images" and "never" not in fig.axes[0].get_title()
    plt.close(fig)


def test_history_ticks_whole_epochs_only():
    fig = plots.history({"loss": [1.0, 0.5], "val_loss": [0.9, 0.6]})
    fig.canvas.draw()
    ticks = [t for t in fig.axes[0].get_xticks() if 1 <= t <= 2]
    assert ticks == [1.0, 2.0]
    plt.close(fig)
