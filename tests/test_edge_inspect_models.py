"""``edgelab inspect`` on the kinds of .tflite file published models are (issue 28), each
built here with the TFLite converter: a stateful model with resource variables (an ``init``
subgraph run by CALL_ONCE, as streaming keyword spotters have), a loop (WHILE with a
condition and a body subgraph), a sparse dense kernel (the converter's EXPERIMENTAL_SPARSITY),
a custom op (``allow_custom_ops``), a wide graph (12 branches, 130 ops, 4 outputs) and a
TRANSPOSE pair around layout-free ops.

Expected values come from how each model was built (the kernel's non-zeros, the ops of the
loop), and the JSON fields from the schema's layout as ``flatc --json`` writes it.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from edgelab.edge import inspect as ins
from edgelab.run import cli

SPARSE_SHAPE = (64, 32)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """name -> path of each .tflite file, plus the sparse kernel (``"kernel"``)."""
    import tensorflow as tf

    folder = tmp_path_factory.mktemp("tflite")
    rng = np.random.default_rng(0)
    out = {}

    def convert(name, functions, module=None, **settings):
        converter = tf.lite.TFLiteConverter.from_concrete_functions(functions, module)
        for key, value in settings.items():
            setattr(converter, key, value)
        path = folder / f"{name}.tflite"
        path.write_bytes(converter.convert())
        out[name] = path

    class Streaming(tf.Module):          # state kept between calls in a resource variable
        def __init__(self):
            super().__init__()
            self.state = tf.Variable(tf.fill([1, 4], 0.25), name="state")
            self.w = tf.constant(rng.standard_normal((4, 4)).astype(np.float32))

        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def __call__(self, x):
            new = 0.5 * self.state + tf.matmul(x, self.w)
            self.state.assign(new)
            return tf.nn.relu(new)

    streaming = Streaming()
    convert("stateful", [streaming.__call__.get_concrete_function()], streaming,
            experimental_enable_resource_variables=True)

    class Loop(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def __call__(self, x):
            _, y = tf.while_loop(lambda i, y: i < 3, lambda i, y: (i + 1, y * 2.0 + 1.0),
                                 [tf.constant(0), x])
            return y

    loop = Loop()
    convert("while", [loop.__call__.get_concrete_function()], loop)

    kernel = rng.standard_normal(SPARSE_SHAPE).astype(np.float32)
    kernel[rng.random(SPARSE_SHAPE) < 0.9] = 0.0                 # 90% zeros

    class Dense(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec([1, SPARSE_SHAPE[0]], tf.float32)])
        def __call__(self, x):
            return tf.nn.relu(tf.matmul(x, tf.constant(kernel)) + 0.1)

    dense = Dense()
    convert("sparse", [dense.__call__.get_concrete_function()], dense,
            optimizations=[tf.lite.Optimize.EXPERIMENTAL_SPARSITY])
    out["kernel"] = kernel

    class Custom(tf.Module):              # Igamma has no TFLite builtin: a custom op
        @tf.function(input_signature=[tf.TensorSpec([1, 4], tf.float32)])
        def __call__(self, x):
            return tf.math.igamma(x + 1.0, x + 2.0)

    custom = Custom()
    convert("custom", [custom.__call__.get_concrete_function()], custom,
            allow_custom_ops=True)

    weights = [tf.constant(rng.standard_normal((3, 3, 8, 8)).astype(np.float32) * 0.1)
               for _ in range(6)]

    class Wide(tf.Module):                # 12 branches of 10 convolutions, 4 outputs
        @tf.function(input_signature=[tf.TensorSpec([1, 16, 16, 8], tf.float32)])
        def __call__(self, x):
            branches = []
            for b in range(12):
                h = x
                for d in range(20):
                    h = tf.nn.conv2d(h, weights[(b + d) % 6], 1, "SAME") if d % 2 == 0 \
                        else tf.nn.relu6(h + float(b))
                branches.append(h)
            return [tf.add_n(branches[k * 3:(k + 1) * 3]) for k in range(4)]

    wide = Wide()
    convert("wide", [wide.__call__.get_concrete_function()], wide)

    class Pair(tf.Module):                # NHWC -> NCHW, hard swish, scale, bias, back
        @tf.function(input_signature=[tf.TensorSpec([1, 8, 8, 4], tf.float32)])
        def __call__(self, x):
            h = tf.nn.conv2d(x, weights[0][:, :, :4, :4], 1, "SAME")
            t = tf.transpose(h, [0, 3, 1, 2])
            t = t * tf.nn.relu6(t + 3.0) / 6.0 * 0.5 + 0.1
            return tf.nn.conv2d(tf.transpose(t, [0, 2, 3, 1]), weights[1][:, :, :4, :4], 1,
                                "SAME")

    pair = Pair()
    convert("pair", [pair.__call__.get_concrete_function()], pair)
    return out


# ----------------------------------------------------------------------------- subgraphs

def test_every_subgraph_of_a_stateful_model(built, capsys):
    info = ins.read(built["stateful"])
    assert info.subgraph_count == 2 and len(info.subgraphs) == 2
    init = info.subgraphs[1]
    assert [layer.op for layer in init.layers] == ["VAR_HANDLE", "ASSIGN_VARIABLE"]
    call_once = next(layer for layer in info.layers if layer.op == "CALL_ONCE")
    assert call_once.calls == (("init", 1),)
    assert init.called_as == (f"init of CALL_ONCE #{call_once.index}",)
    # the variable's initial value (0.25 x 4) lives in the init subgraph and is counted
    init_params = sum(t.elements for t in init.tensors if t.is_constant)
    main_params = sum(t.elements for t in info.tensors if t.is_constant)
    assert init_params == 4 and info.parameter_count() == main_params + init_params
    assert info.subgraph(1).layer_table()["op"].tolist() == ["VAR_HANDLE", "ASSIGN_VARIABLE"]
    assert cli.main(["inspect", str(built["stateful"])]) == 0
    text = capsys.readouterr().out
    assert "2 subgraphs" in text and "init of CALL_ONCE" in text
    assert text.count("VAR_HANDLE") >= 3      # both tables and both summary lines
    assert "runs subgraph 1 (init)" in text


def test_a_loop_shows_its_condition_and_body(built, capsys):
    info = ins.read(built["while"])
    assert info.subgraph_count == 3
    (loop,) = info.layers
    assert loop.op == "WHILE" and loop.calls == (("cond", 1), ("body", 2))
    ops = {sg.index: sorted(layer.op for layer in sg.layers) for sg in info.subgraphs}
    assert ops[1] == ["LESS"] and ops[2] == ["ADD", "ADD", "MUL"]   # i + 1; y * 2 + 1
    assert info.layer_table(2)["op"].tolist() == ["ADD", "MUL", "ADD"]
    rows = info.summary()["subgraph_list"]
    assert [r["layers"] for r in rows] == [1, 1, 3]
    assert cli.main(["inspect", str(built["while"])]) == 0
    text = capsys.readouterr().out
    for line in ("subgraph 1 'while_cond' (cond of WHILE #0): 1 layers",
                 "subgraph 2 'while_body' (body of WHILE #0): 3 layers",
                 "runs subgraph 1 (cond), subgraph 2 (body)"):
        assert line in text, line
    with pytest.raises(IndexError):
        info.subgraph(3)


# ----------------------------------------------------------------------------- sparsity

def _dense_from_csr(sparsity: dict, values: np.ndarray, shape) -> np.ndarray:
    """Rebuild the dense matrix from flatc-layout CSR metadata (row-major, 2-D)."""
    assert sparsity["traversal_order"] == [0, 1]
    rows, cols = sparsity["dim_metadata"]
    segments = cols["array_segments"]["values"]
    indices = cols["array_indices"]["values"]
    dense = np.zeros(shape, np.float32)
    for r in range(rows["dense_size"]):
        for k in range(segments[r], segments[r + 1]):
            dense[r, indices[k]] = values[k]
    return dense


def test_a_sparse_kernel_is_shown_and_its_json_is_complete(built, capsys):
    kernel = built["kernel"]
    info = ins.read(built["sparse"])
    (sparse,) = info.sparse_tensors()
    assert sparse.shape == (SPARSE_SHAPE[1], SPARSE_SHAPE[0])      # FULLY_CONNECTED [out, in]
    stored = np.count_nonzero(kernel)
    assert sparse.data_bytes == 4 * stored
    assert f"{stored:,} of {kernel.size:,} values stored" in sparse.sparsity_text()
    # the JSON carries the sparsity as flatc writes it, enough to rebuild the kernel
    model = json.loads(info.to_json(include_data=True))
    entry = model["subgraphs"][0]["tensors"][sparse.index]
    sp = entry["sparsity"]
    assert sp["dim_metadata"][0] == {"dense_size": SPARSE_SHAPE[1]}
    assert sp["dim_metadata"][1]["format"] == "SPARSE_CSR"
    assert sp["dim_metadata"][1]["array_segments_type"].endswith("Vector")
    raw = np.frombuffer(bytes(model["buffers"][entry["buffer"]]["data"]), np.float32)
    np.testing.assert_array_equal(_dense_from_csr(sp, raw, sparse.shape), kernel.T)
    full = info.to_dict(defaults=True)["subgraphs"][0]["tensors"][sparse.index]["sparsity"]
    assert full["dim_metadata"][0]["format"] == "DENSE"
    # the table says so on the layer that reads it
    user = next(layer for layer in info.layers if sparse.index in layer.inputs)
    assert "sparse (CSR on dim 1)" in info.layer_notes(user)
    assert cli.main(["inspect", str(built["sparse"])]) == 0
    text = capsys.readouterr().out
    assert f"sparse tensor: #{sparse.index}" in text
    assert f"({1 - stored / kernel.size:.0%} zeros)" in text and "notes" in text


# ----------------------------------------------------------------------------- custom ops

def test_a_custom_op_and_its_options(built, capsys):
    info = ins.read(built["custom"])
    (op,) = [layer for layer in info.layers if layer.op.startswith("CUSTOM")]
    assert op.op == "CUSTOM:Igamma" and info.custom_ops() == {"CUSTOM:Igamma": 1}
    assert op.custom_options, "the converter writes the op's attributes as a FlexBuffer"
    assert f"custom options: {len(op.custom_options)} bytes" in op.custom_options_text()
    assert "'T'" in op.custom_options_text()            # decoded: the dtype attribute
    entry = info.to_dict()["subgraphs"][0]["operators"][op.index]
    assert bytes(entry["custom_options"]) == op.custom_options
    assert "custom_options_format" not in entry            # the default, as flatc leaves out
    assert info.to_dict(defaults=True)["subgraphs"][0]["operators"][op.index][
        "custom_options_format"] == "FLEXBUFFERS"
    assert info.layer_table().loc[op.index, "notes"].startswith("custom options:")
    assert cli.main(["inspect", str(built["custom"])]) == 0
    assert "custom ops: CUSTOM:Igamma x1" in capsys.readouterr().out


def test_files_without_such_things_keep_their_table(built):
    info = ins.read(built["pair"])
    assert "notes" not in info.layer_table().columns
    assert info.sparse_tensors() == [] and info.custom_ops() == {}


# ----------------------------------------------------------------------------- drawings

def test_a_wide_graph_is_drawn_in_lanes_of_readable_boxes(built, tmp_path, monkeypatch):
    info = ins.read(built["wide"])
    assert len(info.layers) > 100 and len(info.outputs) == 4
    layout = info.draw_layout()
    pos = layout["pos"]
    producer = info.producers()
    # a chain stays in its lane: every one-input layer sits under its producer
    chained = [(i, producer[info.activation_inputs(layer)[0]]) for i, layer in
               enumerate(info.layers) if len(info.activation_inputs(layer)) == 1
               and info.activation_inputs(layer)[0] in producer]
    same_lane = sum(pos[i][2] == pos[p][2] for i, p in chained)
    assert same_lane >= 0.9 * len(chained), (same_lane, len(chained))
    assert layout["width"] == 12
    # readable: no two labels overlap (the former layout squeezed 12 boxes into one width)
    import matplotlib.pyplot as plt

    fig = info.draw()
    fig.canvas.draw()
    boxes = [t.get_window_extent() for t in fig.axes[0].texts if t.get_text()]
    assert len(boxes) >= 2 * len(info.layers)
    overlaps = sum(a.overlaps(b) for k, a in enumerate(boxes) for b in boxes[k + 1:])
    plt.close(fig)
    assert overlaps == 0
    monkeypatch.setattr(ins.shutil, "which", lambda name: None)   # no Graphviz
    png = tmp_path / "wide.png"
    assert info.render(png).startswith("matplotlib")
    from PIL import Image

    width, height = Image.open(png).size
    assert width <= ins.TFLiteFile.MAX_DRAWING_PIXELS and height <= width   # wide, not tall


def test_too_big_a_drawing_says_how_to_draw_part_of_it(built, tmp_path, monkeypatch, capsys):
    info = ins.read(built["wide"])
    monkeypatch.setattr(ins.TFLiteFile, "MAX_DRAWING_PIXELS", 1000)
    with pytest.raises(ValueError, match="--layers"):
        info.draw()
    monkeypatch.setattr(ins.shutil, "which", lambda name: None)
    err_png = tmp_path / "all.png"
    assert cli.main(["inspect", str(built["wide"]), "--png", str(err_png)]) == 2
    assert "--layers" in capsys.readouterr().err and not err_png.exists()
    monkeypatch.setattr(ins.TFLiteFile, "MAX_DRAWING_PIXELS", 30_000)
    part = tmp_path / "part.png"
    assert cli.main(["inspect", str(built["wide"]), "--png", str(part), "--layers", "0-9"]) == 0
    assert part.is_file()


def test_a_subgraph_can_be_drawn(built, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(ins.shutil, "which", lambda name: None)
    dot = tmp_path / "body.dot"
    assert cli.main(["inspect", str(built["while"]), "--dot", str(dot), "--subgraph", "2"]) == 0
    assert dot.read_text().count("[label=\"#") == 3
    assert cli.main(["inspect", str(built["while"]), "--png", str(tmp_path / "x.png"),
                     "--subgraph", "3"]) == 2
    assert "numbered 0 to 2" in capsys.readouterr().err


@pytest.mark.skipif(__import__("shutil").which("dot") is None, reason="Graphviz not installed")
def test_graphviz_draws_the_wide_graph(built, tmp_path):
    assert ins.read(built["wide"]).render(tmp_path / "wide.svg") == "graphviz dot"


# ----------------------------------------------------------------------------- TRANSPOSE

def test_a_transpose_pair_is_reported_and_can_be_removed(built):
    from edgelab.edge import transposes

    info = ins.read(built["pair"])
    assert info.ops_histogram().get("TRANSPOSE") == 2, info.ops_histogram()
    ((opening, closers, between),) = info.transpose_pairs()
    assert [info.layers[i].op for i in between][0] == "HARD_SWISH"
    text = ins.transpose_text(info.transpose_sites())
    assert f"#{opening} perm [0,3,1,2]" in text and f"cancels with #{closers[0]}" in text
    data, removed = transposes.cancel_pairs(built["pair"].read_bytes())
    assert len(removed) == 1
    after = ins.read(data)
    assert "TRANSPOSE" not in after.ops_histogram()
    assert len(after.layers) == len(info.layers) - 2
    assert transposes._same_outputs(built["pair"].read_bytes(), data, runs=3)
