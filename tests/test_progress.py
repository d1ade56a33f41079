"""Progress bars: a widget in a live notebook, one text line on stdout headless (never an
empty stderr box), tqdm on a terminal; a live bar during a Keras ``fit``."""

from __future__ import annotations

import numpy as np
import nbformat
import pytest

from edgelab.core import progress

CELL = """from edgelab.core.progress import bar, kind
print(kind())
for _ in bar(range(50), desc="work", leave=False):
    pass
"""


def _run_in_kernel(monkeypatch, headless: bool):
    from nbclient import NotebookClient

    if headless:
        monkeypatch.setenv("EDGELAB_HEADLESS", "1")
    else:
        monkeypatch.delenv("EDGELAB_HEADLESS", raising=False)
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(CELL)]
    NotebookClient(nb, timeout=120, kernel_name="python3", coalesce_streams=True).execute()
    return nb.cells[0].outputs


def test_headless_kernel_gets_one_text_line_on_stdout(monkeypatch):
    outputs = _run_in_kernel(monkeypatch, headless=True)
    assert [o.output_type for o in outputs] == ["stream"]
    assert outputs[0].name == "stdout"            # no stderr output at all
    text = outputs[0].text
    assert text.startswith("notebook-text\n")
    assert "work: 100%" in text and "50/50" in text   # left in place despite leave=False


def test_live_kernel_with_ipywidgets_gets_a_widget(monkeypatch):
    outputs = _run_in_kernel(monkeypatch, headless=False)
    assert outputs[0].text.strip() == "widget"
    widget = [o for o in outputs if o.output_type == "display_data"]
    assert widget and "application/vnd.jupyter.widget-view+json" in widget[0].data
    assert not [o for o in outputs if o.get("name") == "stderr"]


def test_terminal_bar_and_no_notebook_options(capsys):
    assert progress.kind() == "terminal"
    for _ in progress.bar(range(3), desc="steps", mininterval=0):
        pass
    assert "steps: 100%" in capsys.readouterr().err


def test_headless_text_bar_updates_at_most_every_interval(monkeypatch):
    monkeypatch.setattr(progress, "in_notebook", lambda: True)
    monkeypatch.setenv("EDGELAB_HEADLESS", "1")
    monkeypatch.setenv("EDGELAB_PROGRESS_INTERVAL", "7")
    b = progress.bar(total=3, desc="x", mininterval=2.0, leave=False, dynamic_ncols=True)
    try:
        assert b.mininterval == 7.0 and b.leave is True
    finally:
        b.close()
    monkeypatch.delenv("EDGELAB_HEADLESS")
    monkeypatch.setattr(progress, "_widgets_available", lambda: False)
    b = progress.bar(total=3, desc="x")      # a person watching, no ipywidgets: every second
    try:
        assert b.mininterval == progress.LIVE_TEXT_INTERVAL
    finally:
        b.close()


@pytest.mark.parametrize("legacy", [False, True], ids=["keras3", "tf_keras"])
def test_keras_callback_moves_one_bar_over_every_batch(legacy, capsys):
    if legacy:
        import tf_keras as K
    else:
        import keras as K
    x = np.random.default_rng(0).random((40, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = K.Sequential([K.Input((4,)), K.layers.Dense(2)])
    model.compile("sgd", K.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    callback = progress.keras_callback("fitting", legacy=legacy)
    seen = {}

    class Spy(K.callbacks.Callback):
        def on_train_end(self, logs=None):
            seen.update(total=callback._bar.total, n=callback._bar.n,
                        postfix=dict(callback._postfix))

    model.fit(x, y, batch_size=10, epochs=3, verbose=0, callbacks=[callback, Spy()])
    assert seen["total"] == 12 and seen["n"] == 12          # 3 epochs x 4 batches
    assert seen["postfix"]["epoch"] == "3/3" and "loss" in seen["postfix"]
    err = capsys.readouterr().err
    assert "fitting: 100%" in err and "12/12" in err
    with pytest.raises(ValueError, match="per must be"):
        progress.keras_callback(per="step")
