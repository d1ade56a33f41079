"""Grad-CAM (edgelab.gradcam) and the ImageNet MobileNet it explains (edgelab.gradcam.imagenet).

The small models here are built so the right answer is known in closed form: for global
average pooling followed by a linear layer, Grad-CAM's channel weights are the linear
layer's weights divided by h*w, so the map must equal the class activation map (CAM,
Zhou et al. 2016) computed by hand from the weights.
"""

from __future__ import annotations

import numpy as np
import pytest

from edgelab import gradcam as explain
from edgelab.gradcam import cam
from edgelab.gradcam import imagenet

tf = pytest.importorskip("tensorflow")
keras = pytest.importorskip("keras")


# --------------------------------------------------------------------------- small models

def _gap_dense(classes: int = 3, size: int = 12, seed: int = 0):
    keras.utils.set_random_seed(seed)
    inputs = keras.Input((size, size, 3), name="image")
    x = keras.layers.Conv2D(6, 3, padding="same", name="conv")(inputs)
    x = keras.layers.ReLU(name="relu")(x)
    x = keras.layers.GlobalAveragePooling2D(name="pool")(x)
    outputs = keras.layers.Dense(classes, name="logits")(x)
    return keras.Model(inputs, outputs, name="gap_dense")


def _images(n: int = 2, size: int = 12, seed: int = 1):
    return np.random.default_rng(seed).uniform(0, 1, (n, size, size, 3)).astype(np.float32)


def _cam_by_hand(features, weights, classes):
    """CAM: ReLU(sum_k w_kc A_k), scaled to a maximum of 1 (Grad-CAM's answer for GAP+linear)."""
    cam = np.maximum(np.einsum("nhwk,kn->nhw", features, weights[:, classes]), 0)
    return cam / cam.max(axis=(1, 2), keepdims=True)


def test_gradcam_equals_cam_for_pooling_then_linear():
    model = _gap_dense()
    images = _images()
    result = explain.GradCam(model, upsample=False).explain(images)
    features = keras.Model(model.input, model.get_layer("relu").output)(images).numpy()
    expected = _cam_by_hand(features, model.get_layer("logits").kernel.numpy(), result.class_index)
    assert result.layer == "relu"
    np.testing.assert_allclose(result.heatmaps, expected, atol=1e-5)
    np.testing.assert_array_equal(result.class_index, model(images).numpy().argmax(axis=1))
    np.testing.assert_allclose(result.logits, model(images).numpy(), atol=1e-5)


def test_heatmaps_are_batched_at_input_resolution_in_unit_range():
    model = _gap_dense(size=16)
    maps = explain.gradcam(model, _images(3, 16))
    assert maps.shape == (3, 16, 16) and maps.dtype == np.float32
    assert maps.min() >= 0.0 and np.allclose(maps.max(axis=(1, 2)), 1.0)


def test_class_index_choices_and_errors():
    model = _gap_dense(classes=4)
    images = _images(2)
    cam = explain.GradCam(model)
    top = cam.explain(images)
    np.testing.assert_array_equal(top.class_index, model(images).numpy().argmax(axis=1))
    assert (cam.explain(images, 3).class_index == 3).all()
    assert cam.explain(images, [0, 2]).class_index.tolist() == [0, 2]
    np.testing.assert_allclose(cam(images, top.class_index), top.heatmaps, atol=1e-6)
    others = [(int(c) + 1) % 4 for c in top.class_index]
    assert not np.allclose(cam(images, others), top.heatmaps)   # another class, another map
    with pytest.raises(ValueError, match=r"class_index \[4\] out of range.*4 classes"):
        cam(images, 4)
    with pytest.raises(ValueError, match=r"class_index \[-1\] out of range"):
        cam(images, -1)
    with pytest.raises(ValueError, match="2 ints"):
        cam(images, [0, 1, 2])
    with pytest.raises(ValueError, match="2 ints"):
        cam(images, 1.5)


def test_bad_inputs_get_clear_errors():
    model = _gap_dense()
    with pytest.raises(ValueError, match=r"batch \(N, height, width, channels\).*image\[None\]"):
        explain.gradcam(model, _images(1)[0])
    with pytest.raises(ValueError, match="empty batch"):
        explain.gradcam(model, np.zeros((0, 12, 12, 3), np.float32))
    with pytest.raises(ValueError, match="'nope' is not in model 'gap_dense'"):
        explain.GradCam(model, layer="nope")
    with pytest.raises(ValueError, match="'pool' outputs shape .*4-D feature map"):
        explain.GradCam(model, layer="pool")
    with pytest.raises(ValueError, match="method must be one of gradcam, gradcam\\+\\+"):
        explain.GradCam(model, method="cam")
    with pytest.raises(TypeError, match="layer must be a name"):
        explain.GradCam(model, layer=3)
    with pytest.raises(TypeError, match="cannot explain a ndarray"):
        explain.GradCam(np.zeros(3))


def test_no_spatial_map_and_softmax_inside_the_last_layer_are_refused():
    inputs = keras.Input((8,), name="x")
    flat = keras.Model(inputs, keras.layers.Dense(3)(inputs), name="flat")
    with pytest.raises(ValueError, match="no layer with a 4-D output larger than 1x1"):
        explain.GradCam(flat)
    inputs = keras.Input((8, 8, 3))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inputs))
    fused = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="probs")(x))
    with pytest.raises(ValueError, match="'probs'.*softmax inside itself.*Activation"):
        explain.GradCam(fused)


def test_final_softmax_layer_is_skipped_and_1x1_maps_are_not_feature_maps():
    """MobileNet's ImageNet top: pool to 1x1 (4-D!), 1x1 conv, reshape, softmax."""
    keras.utils.set_random_seed(2)
    inputs = keras.Input((12, 12, 3))
    feats = keras.layers.ReLU(name="relu")(keras.layers.Conv2D(5, 3, padding="same")(inputs))
    x = keras.layers.GlobalAveragePooling2D(keepdims=True)(feats)
    x = keras.layers.Conv2D(4, 1, name="preds")(x)
    x = keras.layers.Reshape((4,))(x)
    model = keras.Model(inputs, keras.layers.Activation("softmax", name="predictions")(x))
    images = _images(2)
    result = explain.GradCam(model, upsample=False).explain(images)
    assert result.layer == "relu"
    probs = model(images).numpy()
    np.testing.assert_allclose(tf.nn.softmax(result.logits).numpy(), probs, atol=1e-5)
    kernel = model.get_layer("preds").kernel.numpy()[0, 0]          # (channels, classes)
    features = keras.Model(inputs, feats)(images).numpy()
    np.testing.assert_allclose(result.heatmaps, _cam_by_hand(features, kernel, result.class_index),
                               atol=1e-5)


def test_sequential_models_work():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((10, 10, 3)), keras.layers.Conv2D(4, 3, name="c"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(2)])
    cam = explain.GradCam(model)
    assert cam.layer == "c" and cam(_images(2, 10)).shape == (2, 10, 10)


def _nested(size: int = 16):
    keras.utils.set_random_seed(4)
    b_in = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="inner_conv1")(b_in)
    x = keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu",
                            name="inner_conv2")(x)
    backbone = keras.Model(b_in, x, name="backbone")
    inputs = keras.Input((size, size, 3))
    y = keras.layers.Rescaling(2.0, offset=-1.0, name="rescale")(inputs)
    y = keras.layers.GlobalAveragePooling2D(name="pool")(backbone(y))
    return keras.Model(inputs, keras.layers.Dense(3, name="logits")(y), name="outer")


def test_nested_backbone_output_is_the_feature_map_and_inner_layers_can_be_named():
    model = _nested()
    images = _images(2, 16)
    auto = explain.GradCam(model)
    assert auto.layer == "backbone"   # the nested model's output = its last conv map
    maps = auto(images)
    for layer in ("backbone/inner_conv2", "inner_conv2",
                  model.get_layer("backbone").get_layer("inner_conv2")):
        np.testing.assert_allclose(explain.GradCam(model, layer=layer)(images), maps, atol=1e-6)
    earlier = explain.GradCam(model, layer="backbone/inner_conv1")
    assert earlier.layer == "backbone/inner_conv1"
    early_maps = earlier(images)
    assert early_maps.shape == maps.shape and not np.allclose(early_maps, maps)
    with pytest.raises(ValueError, match="'backbone/nope' is not in model 'outer'"):
        explain.GradCam(model, layer="backbone/nope")


def test_nested_model_pooled_inside_is_searched_for_its_last_map():
    keras.utils.set_random_seed(5)
    b_in = keras.Input((12, 12, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="deep")(b_in)
    backbone = keras.Model(b_in, keras.layers.GlobalAveragePooling2D()(x), name="pooled")
    inputs = keras.Input((12, 12, 3))
    model = keras.Model(inputs, keras.layers.Dense(2)(backbone(inputs)))
    cam = explain.GradCam(model)
    assert cam.layer == "pooled/deep" and cam(_images(2)).shape == (2, 12, 12)


def test_a_layer_bypassed_by_a_skip_connection_cannot_be_the_cut():
    inputs = keras.Input((8, 8, 3))
    a = keras.layers.Conv2D(3, 3, padding="same", name="a")(inputs)
    b = keras.layers.Conv2D(3, 3, padding="same", name="b")(a)
    merged = keras.layers.Add(name="add")([inputs, b])   # reads the input past layer "b"
    out = keras.layers.Dense(2)(keras.layers.GlobalAveragePooling2D()(merged))
    model = keras.Model(inputs, out)
    with pytest.raises(ValueError, match="cannot cut .* at layer 'b'.*skip connection"):
        explain.GradCam(model, layer="b")
    assert explain.GradCam(model).layer == "add"


def test_module_with_features_and_head_like_sonnet():
    snt = pytest.importorskip("sonnet", reason="dm-sonnet is part of the pinned stack")

    class Tiny(snt.Module):
        def __init__(self):
            super().__init__(name="tiny")
            self.conv = snt.Conv2D(5, 3)
            self.bn = snt.BatchNorm(create_scale=True, create_offset=True)
            self.fc = snt.Linear(3)

        def features(self, x, is_training):
            return tf.nn.relu(self.bn(self.conv(x), is_training=is_training,
                                      test_local_stats=False))

        def head(self, features, is_training):
            return self.fc(tf.reduce_mean(features, axis=(1, 2)))

    tf.random.set_seed(6)   # Sonnet's initializers draw from TensorFlow's global seed
    module = Tiny()
    images = _images(2)
    module.head(module.features(images, is_training=True), is_training=True)   # create variables
    result = explain.GradCam(module, upsample=False).explain(images)
    assert result.layer == "Tiny.features"
    features = module.features(images, is_training=False).numpy()
    np.testing.assert_allclose(result.heatmaps,
                               _cam_by_hand(features, module.fc.w.numpy(), result.class_index),
                               atol=1e-5)
    assert explain.gradcam_plus_plus(module, images).shape == (2, 12, 12)
    with pytest.raises(ValueError, match=r"class_index \[3\] out of range: the model has 3"):
        explain.gradcam(module, images, class_index=3)
    with pytest.raises(ValueError, match="layer= applies to Keras"):
        explain.GradCam(module, layer="conv")


def test_gradcam_plus_plus_weights_match_the_paper_formula():
    rng = np.random.default_rng(6)
    features = np.maximum(rng.normal(size=(2, 3, 4, 5)), 0).astype(np.float32)
    grads = rng.normal(size=(2, 3, 4, 5)).astype(np.float32)
    grads[0, 0, 0, 0] = 0.0
    # Chattopadhay et al. 2018, eq. 19 (exp score): a = g^2 / (2 g^2 + sum_ab A_ab g^3),
    # w_k = sum_ij a_ij relu(g_ij); 0/0 at zero gradients counts as 0.
    g2, g3 = grads ** 2, grads ** 3
    denominator = 2 * g2 + features.sum(axis=(1, 2), keepdims=True) * g3
    a = np.where(denominator != 0, g2 / np.where(denominator != 0, denominator, 1), 0)
    expected = (a * np.maximum(grads, 0)).sum(axis=(1, 2))
    got = cam._gradcam_plus_plus_weights(tf.constant(features), tf.constant(grads)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_gradcam_plus_plus_map_shape_range_and_difference():
    model = _nested()
    images = _images(2, 16)
    plus = explain.gradcam_plus_plus(model, images)
    assert plus.shape == (2, 16, 16) and plus.min() >= 0 and np.allclose(plus.max(axis=(1, 2)), 1)
    assert not np.allclose(plus, explain.gradcam(model, images))


def test_gradcam_reuses_one_explainer_per_model():
    model = _gap_dense()
    first = cam._cached(model, None, "gradcam")
    assert cam._cached(model, None, "gradcam") is first
    assert cam._cached(model, None, "gradcam++") is not first
    assert cam._cached(_gap_dense(), None, "gradcam") is not first


# --------------------------------------------------------------------------- pictures

def test_overlay_blends_a_colormap_onto_the_image():
    image = np.full((30, 40, 3), 100, np.uint8)
    heat = np.zeros((3, 4), np.float32)
    heat[0, 0] = 1.0
    assert np.array_equal(explain.overlay(image, heat, alpha=0.0), image)
    only_heat = explain.overlay(image, heat, alpha=1.0)
    assert only_heat.shape == image.shape and only_heat.dtype == np.uint8
    hot, cold = only_heat[0, 0].astype(int), only_heat[-1, -1].astype(int)
    assert hot[0] > hot[2] and cold[2] > cold[0]   # jet: red where hot, blue where cold
    half = explain.overlay(image, heat, alpha=0.5).astype(int)
    assert np.abs(half - (image.astype(int) + only_heat) / 2).max() <= 1
    with pytest.raises(ValueError, match="alpha must be in"):
        explain.overlay(image, heat, alpha=1.5)
    np.testing.assert_array_equal(explain.overlay(image / 255.0, heat),
                                  explain.overlay(image, heat))
    with pytest.raises(ValueError, match=r"uint8, or float in \[0, 1\].*preprocessing"):
        explain.overlay(image.astype(np.float32), heat)
    with pytest.raises(ValueError, match=r"RGB \(H, W, 3\)"):
        explain.overlay(image[..., 0], heat)
    with pytest.raises(ValueError, match="2-D"):
        explain.overlay(image, heat[None])


def test_figure_has_a_row_per_image():
    import matplotlib

    matplotlib.use("Agg")
    images = [np.zeros((20, 30, 3), np.uint8), np.ones((16, 16, 3), np.float32) * 0.5]
    heats = [np.random.default_rng(0).uniform(size=(4, 4)) for _ in images]
    top = [[("a", 0.7), ("b", 0.2)], [("c", 0.9), ("d", 0.05)]]
    fig = explain.figure(images, heats, top, titles=["one", "two"])
    assert len(fig.axes) == 8 and fig.axes[0].get_title() == "one"
    assert len(explain.figure(images, heats).axes) == 6
    with pytest.raises(ValueError, match="as many heatmaps as images"):
        explain.figure(images, heats[:1])
    with pytest.raises(ValueError, match="one list per image"):
        explain.figure(images, heats, top[:1])


def test_top_k_from_logits():
    top = explain.top_k(np.array([[0.0, 2.0, 1.0]]), ["a", "b", "c"], k=2)
    assert [name for name, _ in top[0]] == ["b", "c"]
    assert top[0][0][1] == pytest.approx(np.exp(2) / (1 + np.exp(1) + np.exp(2)))
    with pytest.raises(ValueError, match="for 2 class names"):
        explain.top_k(np.zeros((1, 3)), ["a", "b"])


def test_heat_share_two_objects_and_rank_correlation():
    heat = np.zeros((4, 6))
    heat[1:3, 2:5] = 1.0
    heat[0, 0] = 2.0
    assert explain.heat_share(heat, (2, 1, 5, 3)) == pytest.approx(6 / 8)
    assert explain.heat_share(heat, (0, 0, 6, 4)) == 1.0
    assert explain.heat_share(np.zeros((4, 4)), (0, 0, 4, 2)) == 0.0   # no heat: nowhere
    with pytest.raises(ValueError, match="not inside a 6x4 heatmap"):
        explain.heat_share(heat, (0, 0, 7, 2))
    with pytest.raises(ValueError, match="negative"):
        explain.heat_share(-heat, (0, 0, 6, 2))
    # two photos stacked: each cropped to 2:1, not distorted, one per half
    wide = np.zeros((30, 90, 3), np.uint8)
    wide[:, 30:60] = 255                       # a white stripe in the middle third
    tall = np.full((80, 20, 3), 7, np.uint8)
    both = explain.two_objects(wide, tall, size=64)
    assert both.shape == (64, 64, 3) and both.dtype == np.uint8
    top, bottom = both[:32], both[32:]
    assert (bottom == 7).all()
    assert top[:, 32].min() == 255 and top[:, 2].max() == 0   # the crop kept the centre
    with pytest.raises(ValueError, match="even number"):
        explain.two_objects(wide, tall, size=63)
    with pytest.raises(ValueError, match="bottom must be an RGB uint8"):
        explain.two_objects(wide, tall.astype(np.float32))
    ramp = np.arange(12.0).reshape(3, 4)
    assert explain.rank_correlation(ramp, ramp ** 3) == pytest.approx(1.0)
    assert explain.rank_correlation(ramp, -ramp) == pytest.approx(-1.0)
    assert explain.rank_correlation(ramp, np.zeros_like(ramp)) == 0.0
    with pytest.raises(ValueError, match="differ in size"):
        explain.rank_correlation(ramp, ramp[:2])


def test_randomized_copy_changes_only_the_named_layers():
    model = _gap_dense()
    before = [w.copy() for w in model.get_weights()]
    copy = explain.randomized_copy(model, ["logits"], seed=0)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)   # the original is untouched
    np.testing.assert_array_equal(copy.get_layer("conv").kernel.numpy(),
                                  model.get_layer("conv").kernel.numpy())
    new, old = copy.get_layer("logits").kernel.numpy(), model.get_layer("logits").kernel.numpy()
    assert not np.allclose(new, old) and new.std() == pytest.approx(old.std(), rel=0.5)
    with pytest.raises(ValueError, match=r"\['dense_9'\] are not top-level layers"):
        explain.randomized_copy(model, ["dense_9"])
    with pytest.raises(ValueError, match="non-empty list of layer names"):
        explain.randomized_copy(model, "logits")
    # In place, one draw per seed; from the same weights, the same seed gives the same draw.
    copy.set_weights(model.get_weights())
    explain.randomize_weights(copy, ["logits"], seed=1)
    draw_1 = copy.get_layer("logits").kernel.numpy()
    copy.set_weights(model.get_weights())
    explain.randomize_weights(copy, ["logits"], seed=1)
    np.testing.assert_array_equal(copy.get_layer("logits").kernel.numpy(), draw_1)
    assert not np.allclose(draw_1, new)


# --------------------------------------------------------------------------- real ImageNet model

_MODEL = {}


@pytest.fixture
def mobilenet(shared_home):
    if "model" not in _MODEL:
        _MODEL["model"] = imagenet.load_model()
    return _MODEL["model"]


@pytest.fixture
def photos(shared_home):
    from edgelab.datasets import samples

    return [samples.load_image("chelsea.png"), samples.load_image("grace_hopper.jpg")]


def test_imagenet_names_preprocessing_and_errors(shared_home):
    names = imagenet.class_names()
    assert len(names) == imagenet.NUM_CLASSES == 1000
    assert (names[281], names[285], names[457]) == ("tabby", "Egyptian cat", "bow tie")
    assert set(imagenet.CAT_CLASSES) <= set(names)
    image = np.zeros((30, 50, 3), np.uint8)
    image[:, 25:] = 255
    batch = imagenet.preprocess(image)
    assert batch.shape == (1, 128, 128, 3) and batch.dtype == np.float32
    assert batch.min() == -1.0 and batch.max() == 1.0
    assert imagenet.preprocess([image, image]).shape == (2, 128, 128, 3)
    with pytest.raises(ValueError, match="RGB uint8 image"):
        imagenet.preprocess(image.astype(np.float32))
    with pytest.raises(ValueError, match="probabilities must be"):
        imagenet.top_k(np.zeros(1000))


def test_imagenet_predictions_and_heatmaps(mobilenet, photos):
    names = imagenet.class_names()
    images = imagenet.preprocess(photos)
    result = explain.GradCam(mobilenet).explain(images)
    assert result.layer == "conv_pw_13_relu"
    assert result.heatmaps.shape == (2, 128, 128)
    assert result.heatmaps.min() >= 0 and np.allclose(result.heatmaps.max(axis=(1, 2)), 1)
    top1 = [names[i] for i in result.class_index]
    assert top1[0] in imagenet.CAT_CLASSES, top1
    assert top1[1] == "bow tie", top1
    probs = mobilenet.predict(images, verbose=0)
    np.testing.assert_allclose(tf.nn.softmax(result.logits).numpy(), probs, atol=1e-5)
    # Two objects in one picture: the map for each class lies on its own object.
    names_index = {n: i for i, n in enumerate(names)}
    cat, coffee = photos[0], _coffee()
    pictures = imagenet.preprocess([explain.two_objects(cat, coffee),
                                    explain.two_objects(coffee, cat)])
    cells = explain.GradCam(mobilenet, upsample=False)
    top, bottom = (0, 0, 4, 2), (0, 2, 4, 4)
    tabby = cells(pictures, names_index["tabby"])
    espresso = cells(pictures, names_index["espresso"])
    shares = [explain.heat_share(tabby[0], top), explain.heat_share(tabby[1], bottom),
              explain.heat_share(espresso[0], bottom), explain.heat_share(espresso[1], top)]
    assert min(shares) >= 0.65, shares
    # ...which uniform random 4x4 maps almost never do, even once.
    noise = np.random.default_rng(0).uniform(size=(2000, 4, 4))
    assert np.mean([explain.heat_share(m, top) >= 0.65 for m in noise]) < 0.05


def _coffee():
    from edgelab.datasets import samples

    return samples.load_image("coffee.png")


def test_randomizing_the_top_changes_the_map(mobilenet, photos):
    """Adebayo et al. 2018: a map that depends on the model changes with its weights."""
    images = imagenet.preprocess(photos)
    base = explain.GradCam(mobilenet).explain(images)
    block = ["conv_preds", "conv_pw_13", "conv_pw_13_bn", "conv_dw_13", "conv_dw_13_bn"]
    steps = {"classifier": ["conv_preds"], "classifier + last block": block}
    result = explain.randomization_cascade(mobilenet, images, base.class_index, steps,
                                           draws=6, seed=0)
    np.testing.assert_allclose(result.trained, base.heatmaps, atol=1e-6)
    assert result.steps == list(steps)
    assert result.maps["classifier"].shape == (6, 2, 128, 128)
    assert result.rho["classifier + last block"].shape == (6, 2)
    # One random draw can still resemble the original by chance (the 4x4 map has only 16
    # cells); averaged over draws the rank correlation is near 0, the trained model's is 1.
    for step in steps:
        assert (np.abs(result.rho[step].mean(axis=0)) < 0.5).all(), result.rho[step]
    assert "classifier + last block" in result.table(["a", "b"])
    with pytest.raises(ValueError, match="not top-level layers"):
        explain.randomization_cascade(mobilenet, images, base.class_index, {"x": ["nope"]})


def test_matches_tf_keras_vis(mobilenet, photos):
    vis = pytest.importorskip("tf_keras_vis.gradcam",
                              reason="tf-keras-vis is not installed; it is the independent "
                                     "reference this cross-check compares against")
    from tf_keras_vis.utils.model_modifiers import ReplaceToLinear
    from tf_keras_vis.utils.scores import CategoricalScore

    images = imagenet.preprocess(photos)
    ours = explain.GradCam(mobilenet, upsample=False).explain(images)
    theirs = vis.Gradcam(mobilenet, model_modifier=ReplaceToLinear(), clone=True)
    kwargs = dict(penultimate_layer="conv_pw_13_relu", seek_penultimate_conv_layer=False)
    score = CategoricalScore(list(ours.class_index))
    low = np.asarray(theirs(score, images, expand_cam=False, **kwargs))
    for a, b in zip(low, ours.heatmaps):   # the 4x4 maps themselves
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] >= 0.99
    # At 128 px the two differ only in how they upsample 4x4 to 128x128 (tf-keras-vis:
    # scipy zoom, corners aligned; ours: half-pixel centres), so they stay close.
    full = np.asarray(theirs(score, images, **kwargs))
    ours_full = explain.GradCam(mobilenet)(images, ours.class_index)
    for a, b in zip(full, ours_full):
        assert np.corrcoef(a.ravel(), b.ravel())[0, 1] >= 0.9


def test_real_flower_model_nested_backbone(shared_home):
    from edgelab.hub import flowers_classifier

    model = flowers_classifier.build(96)
    images = _images(2, 96)
    auto = explain.GradCam(model)
    assert auto.layer.startswith("mobilenet_0.25_96")
    inner = explain.GradCam(model, layer=f"{auto.layer}/conv_pw_13_relu")
    np.testing.assert_allclose(auto(images), inner(images), atol=1e-6)
    assert auto(images).shape == (2, 96, 96)
