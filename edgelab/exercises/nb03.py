"""Notebook 03's exercises: Grad-CAM at a finer layer, by hand for an absent class,
occlusion as the faithful test, a deeper randomization cascade.

Each checker takes the learner's objects and recomputes what it compares them with from
the package (the ImageNet MobileNet, the sample photos), never from notebook globals. The
model and the reference answers are built once per process (``_reference``).
"""

from __future__ import annotations

import functools

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake

CAT_PHOTO, HOPPER_PHOTO, COFFEE_PHOTO = "chelsea.png", "grace_hopper.jpg", "coffee.png"


@functools.lru_cache(maxsize=1)
def _model():
    from edgelab.gradcam import imagenet

    return imagenet.load_model()


@functools.lru_cache(maxsize=None)
def _image(name: str) -> np.ndarray:
    from edgelab.datasets import samples
    from edgelab.gradcam import imagenet

    return imagenet.preprocess(samples.load_image(name))


def _names() -> list[str]:
    from edgelab.gradcam import imagenet

    return imagenet.class_names()


def _centre_row(cell_map: np.ndarray, image_side: int = 128) -> float:
    """Heat-weighted centre of a map, in rows of the input (0 = top)."""
    rows = (np.arange(cell_map.shape[0]) + 0.5) * image_side / cell_map.shape[0]
    return float((cell_map * rows[:, None]).sum() / cell_map.sum())


def _layer_of(cam) -> str:
    layer = getattr(cam, "layer", None)
    if layer is None or not hasattr(cam, "explain"):
        raise ExerciseError("cam11 should be a gradcam.GradCam(...); got "
                            f"{type(cam).__name__}")
    return str(layer).split("/")[-1]


class FinerLayer(Exercise):
    number = 1
    title = "Finer but blurrier: Grad-CAM at an earlier layer"
    answers = ("cam11",)
    where = "class"
    minutes = 10
    starter = '''
    cam11 = ____   # a gradcam.GradCam on the earlier map conv_pw_11_relu, maps at its own resolution
    '''
    hint = """
    `gradcam.GradCam(model, layer=..., upsample=...)`: name the layer by its name in
    `model.summary()`, and ask for the maps before they are resized to the photo, the way
    section 2 built `cells`."""
    solution = '''
    cam11 = gradcam.GradCam(model, layer="conv_pw_11_relu", upsample=False)
    '''
    explanation = """
    `conv_pw_11_relu` comes before the last stride-2 layer, so its map has 8x8 cells on a
    16-pixel grid instead of 4x4 on a 32-pixel one. The checker computes Grace Hopper's
    "bow tie" and "mortarboard" maps with your object and compares their heat-weighted
    centres with the last layer's. Finer cells do not by themselves separate two classes:
    for this small MobileNet the two maps end up closer together at the finer layer,
    because its features are less specific to the class (fewer layers separate them from
    the pixels), so both classes light up much the same parts of the photo. Choosing the
    layer is a trade between *where* and *what*."""
    messages = {
        "passed": "right: {side}x{side} cells on a {step}-pixel grid. Grace Hopper's 'mortarboard' "
                  "heat centre lies {fine:.1f} px above the 'bow tie' one here, {coarse:.1f} px at "
                  "the last layer (4x4): the finer map separates the cap from the tie better",
        "passed_same": "right: {side}x{side} cells on a {step}-pixel grid. Grace Hopper's "
                       "'mortarboard' heat centre lies {fine:.1f} px above the 'bow tie' one here, "
                       "{coarse:.1f} px at the last layer (4x4): the finer map separates the cap "
                       "from the tie no better",
        "last": "your GradCam reads {layer}, the last feature map (4x4) that section 2 used; "
                "the exercise asks for the earlier conv_pw_11_relu",
        "prerelu": "your GradCam reads {layer}, the output of the convolution before its batch "
                   "norm and ReLU: it can be negative and is not what the next layer sees; use "
                   "the activation conv_pw_11_relu",
        "other": "your GradCam reads {layer}; the exercise asks for conv_pw_11_relu",
        "upsample": "your maps come back at {shape}: resized to the photo. Pass upsample=False "
                    "to get the layer's own 8x8 cells",
    }
    mistakes = [
        Mistake('cam11 = gradcam.GradCam(model, upsample=False)', "last",
                "keeps the default layer: the last 4x4 map"),
        Mistake('cam11 = gradcam.GradCam(model, layer="conv_pw_11", upsample=False)', "prerelu",
                "the convolution before batch norm and ReLU"),
        Mistake('cam11 = gradcam.GradCam(model, layer="conv_pw_11_relu")', "upsample",
                "maps resized to the photo, not at the layer's resolution"),
    ]

    def verify(self, cam11):
        layer = _layer_of(cam11)
        if layer == "conv_pw_13_relu":
            return self.wrong("last", layer=layer)
        if layer == "conv_pw_11":
            return self.wrong("prerelu", layer=layer)
        if layer != "conv_pw_11_relu":
            return self.wrong("other", layer=layer)
        hopper = _image(HOPPER_PHOTO)
        names = _names()
        maps = {c: cam11(hopper, names.index(c))[0] for c in ("bow tie", "mortarboard")}
        shape = maps["bow tie"].shape
        if shape != (8, 8):
            return self.wrong("upsample", shape="x".join(map(str, shape)))
        from edgelab.gradcam import GradCam

        coarse_cam = GradCam(_model(), upsample=False)
        coarse = {c: coarse_cam(hopper, names.index(c))[0] for c in maps}
        fine_gap = _centre_row(maps["bow tie"]) - _centre_row(maps["mortarboard"])
        coarse_gap = _centre_row(coarse["bow tie"]) - _centre_row(coarse["mortarboard"])
        key = "passed" if fine_gap > coarse_gap else "passed_same"
        return self.passed(key, side=8, step=16, fine=fine_gap, coarse=coarse_gap)


@functools.lru_cache(maxsize=1)
def _absent_class_reference() -> dict[str, np.ndarray]:
    """Un-normalised Grad-CAM maps on the coffee photo: 'tabby' (absent) and 'espresso'."""
    import keras
    import tensorflow as tf

    model = _model()
    names = _names()
    two = keras.Model(model.input, [model.get_layer("conv_pw_13_relu").output,
                                    model.get_layer("predictions").input])
    coffee = _image(COFFEE_PHOTO)
    out = {}
    for name in ("tabby", "espresso"):
        with tf.GradientTape() as tape:
            A, scores = two(coffee)
            y = scores[:, names.index(name)]
        A, g = A.numpy(), tape.gradient(y, A).numpy()
        signed = np.einsum("nhwk,nk->nhw", A, g.mean(axis=(1, 2)))[0]
        out[name] = np.maximum(signed, 0.0)
        out[name + " signed"] = signed
    return out


_EX2 = '''A, grads = feature_map_and_gradient(imagenet.preprocess(coffee), [names.index("tabby")])
'''


class AbsentClass(Exercise):
    number = 2
    title = "A class that is not there"
    answers = ("raw_tabby",)
    where = "class"
    minutes = 10
    starter = '''
    A, grads = feature_map_and_gradient(imagenet.preprocess(coffee), [names.index("tabby")])
    raw_tabby = ____   # the 4x4 Grad-CAM map of 'tabby' on the coffee photo, BEFORE scaling to [0, 1]
    '''
    hint = """
    `grad_cam_formula` in section 2 does three things: the channel weights (the mean
    gradient), the ReLU of the weighted sum, and the division by the peak. Do the first two
    only, and take image 0 of the batch."""
    solution = '''
    A, grads = feature_map_and_gradient(imagenet.preprocess(coffee), [names.index("tabby")])
    weights = grads.mean(axis=(1, 2))                           # one weight per channel
    raw_tabby = np.maximum(np.einsum("nhwk,nk->nhw", A, weights), 0.0)[0]   # no division by the peak
    '''
    explanation = """
    There is no cat in the coffee photo, yet Grad-CAM for "tabby" is not empty: some
    features in the photo raise the tabby score a little (warm brown texture, round
    shapes), and the ReLU keeps those. Scaled to [0, 1], as every displayed map is, its peak
    reads 1.0 just like the map of a class that is there. The size is in the unscaled map:
    the checker compares your peak with the peak for "espresso". A displayed heatmap never
    says how much evidence there is, only where the most of it is."""
    messages = {
        "passed": "right: the unscaled 'tabby' map on the coffee peaks at {peak:.3g}, {ratio:.0f} "
                  "times lower than the 'espresso' map ({espresso:.3g}); scaled to [0, 1] both "
                  "would peak at 1.0",
        "shape": "raw_tabby has shape {shape}; expected the 4x4 map of one image (take [0] of the "
                 "batch)",
        "scaled": "your map peaks at exactly 1.0: it has been divided by its peak, which hides how "
                  "strong the evidence is. Stop before the division",
        "relu": "your map has negative cells (down to {low:.3g}): the ReLU is missing. Grad-CAM "
                "keeps only what speaks for the class",
        "different": "your map differs from Grad-CAM's (largest difference {diff:.3g}): weight each "
                     "channel by its mean gradient over the 4x4 positions, sum over channels, ReLU",
    }
    mistakes = [
        Mistake(_EX2 + "raw_tabby = grad_cam_formula(A, grads)[0]", "scaled",
                "the notebook's formula, scaled to a peak of 1"),
        Mistake(_EX2 + 'raw_tabby = np.einsum("nhwk,nk->nhw", A, grads.mean(axis=(1, 2)))[0]', "relu",
                "no ReLU"),
        Mistake(_EX2 + 'raw_tabby = np.maximum(np.einsum("nhwk,nk->nhw", A, grads.sum(axis=(1, 2))), 0.0)[0]',
                "different", "sums the gradient over positions instead of averaging (16x too big)"),
    ]

    def verify(self, raw_tabby):
        got = np.asarray(raw_tabby, dtype=np.float64)
        if got.shape == (1, 4, 4):
            got = got[0]
        if got.shape != (4, 4):
            return self.wrong("shape", shape=tuple(got.shape))
        ref = _absent_class_reference()
        if got.min() < -1e-6:
            return self.wrong("relu", low=float(got.min()))
        if abs(got.max() - 1.0) < 1e-6 and abs(ref["tabby"].max() - 1.0) > 1e-3:
            return self.wrong("scaled")
        diff = float(np.abs(got - ref["tabby"]).max())
        if diff > 1e-4 * max(1.0, float(ref["tabby"].max())):
            return self.wrong("different", diff=diff)
        peak, espresso = float(ref["tabby"].max()), float(ref["espresso"].max())
        return self.passed(peak=peak, espresso=espresso, ratio=espresso / max(peak, 1e-12))


@functools.lru_cache(maxsize=1)
def _occlusion_reference() -> dict[str, np.ndarray]:
    from edgelab.gradcam import GradCam, imagenet, rank_correlation

    model = _model()
    names = _names()
    cat_ids = [names.index(c) for c in imagenet.CAT_CLASSES]
    cat = _image(CAT_PHOTO)

    def p_cat(batch):
        return model.predict(batch, verbose=0)[:, cat_ids].sum(axis=1)

    def drops(fill):
        occluded = np.repeat(cat, 16, axis=0)
        for k in range(16):
            i, j = divmod(k, 4)
            occluded[k, 32 * i:32 * i + 32, 32 * j:32 * j + 32] = fill
        return (p_cat(cat) - p_cat(occluded)).reshape(4, 4)

    grey, black = drops(0.0), drops(-1.0)
    cell_map = GradCam(model, upsample=False)(cat)[0]
    return {"grey": grey, "black": black, "gradcam": cell_map,
            "rho": np.array(rank_correlation(cell_map, grey))}


_EX3 = '''cat = images[:1]
cat_ids = [names.index(c) for c in imagenet.CAT_CLASSES]

def p_cat(batch):
    return model.predict(batch, verbose=0)[:, cat_ids].sum(axis=1)

'''


class Occlusion(Exercise):
    number = 3
    title = "Occlusion, the faithful test"
    answers = ("drop",)
    where = "class"
    minutes = 15
    starter = '''
    cat = images[:1]                                    # the cat, preprocessed: values in [-1, 1]
    cat_ids = [names.index(c) for c in imagenet.CAT_CLASSES]

    def p_cat(batch):                                   # total probability of the seven cat classes
        return model.predict(batch, verbose=0)[:, cat_ids].sum(axis=1)

    drop = ____   # (4, 4): p_cat(cat) minus p_cat of the cat with block (row i, column j) greyed out
    '''
    hint = """
    Make 16 copies of `cat` (`np.repeat(cat, 16, axis=0)`), and in copy `4 * i + j` set the
    32x32 block of rows `32 i` to `32 i + 32` and columns `32 j` to `32 j + 32` to 0 (grey
    after MobileNet's preprocessing). One `p_cat` call on all 16 gives the probabilities
    after; subtract them from the one before and reshape to 4x4."""
    solution = '''
    cat = images[:1]
    cat_ids = [names.index(c) for c in imagenet.CAT_CLASSES]

    def p_cat(batch):
        return model.predict(batch, verbose=0)[:, cat_ids].sum(axis=1)

    occluded = np.repeat(cat, 16, axis=0)
    for k in range(16):
        i, j = divmod(k, 4)
        occluded[k, 32 * i:32 * i + 32, 32 * j:32 * j + 32] = 0.0   # grey: 0 after preprocessing
    drop = (p_cat(cat) - p_cat(occluded)).reshape(4, 4)
    '''
    explanation = """
    Occlusion asks the model directly: hide this part, does the decision change? It is
    slower than Grad-CAM (one forward pass per block) and coarse in its own way (the grey
    block is itself an input the model never saw in training), but it is an intervention, not
    a gradient. The checker compares your drops with Grad-CAM's 16 cells by rank
    correlation: agreement makes the map more credible for this photo; disagreement shows
    that a map of sensitivity and a test of necessity answer different questions (the cat
    fills the frame, so hiding one block rarely removes all the evidence)."""
    messages = {
        "passed": "right: hiding the block under Grad-CAM's hottest cell lowers the cat probability "
                  "by {hot:.3f}, under its coldest cell by {cold:.3f}; rank correlation of Grad-CAM "
                  "with the 16 drops: {rho:.2f}",
        "shape": "drop has shape {shape}; expected (4, 4): one number per 32x32 block",
        "black": "your blocks were set to -1, black after preprocessing (pixel 0 before it); the "
                 "exercise greys them out: 0 after preprocessing is a mid-grey pixel",
        "transposed": "your drops are the transpose of the right ones: block k = 4 i + j covers rows "
                      "32 i to 32 i + 32 (i is the row) and columns 32 j to 32 j + 32",
        "sign": "your drops have the wrong sign: 'before minus after', so a block whose hiding "
                "lowers the cat probability gets a positive drop",
        "different": "your drops differ from the reference by up to {diff:.3g}: check which block "
                     "you grey out for each (i, j)",
    }
    mistakes = [
        Mistake(_EX3 + '''occluded = np.repeat(cat, 16, axis=0)
for k in range(16):
    i, j = divmod(k, 4)
    occluded[k, 32 * i:32 * i + 32, 32 * j:32 * j + 32] = -1.0
drop = (p_cat(cat) - p_cat(occluded)).reshape(4, 4)''', "black", "black blocks instead of grey"),
        Mistake(_EX3 + '''occluded = np.repeat(cat, 16, axis=0)
for k in range(16):
    i, j = divmod(k, 4)
    occluded[k, 32 * j:32 * j + 32, 32 * i:32 * i + 32] = 0.0
drop = (p_cat(cat) - p_cat(occluded)).reshape(4, 4)''', "transposed", "rows and columns swapped"),
        Mistake(_EX3 + '''occluded = np.repeat(cat, 16, axis=0)
for k in range(16):
    i, j = divmod(k, 4)
    occluded[k, 32 * i:32 * i + 32, 32 * j:32 * j + 32] = 0.0
drop = (p_cat(occluded) - p_cat(cat)).reshape(4, 4)''', "sign", "after minus before"),
    ]

    def verify(self, drop):
        got = np.asarray(drop, dtype=np.float64)
        if got.shape != (4, 4):
            return self.wrong("shape", shape=tuple(got.shape))
        ref = _occlusion_reference()
        tol = 1e-4
        if np.allclose(got, ref["grey"], atol=tol):
            cells = ref["gradcam"]
            hot = np.unravel_index(cells.argmax(), cells.shape)
            cold = np.unravel_index(cells.argmin(), cells.shape)
            return self.passed(hot=float(got[hot]), cold=float(got[cold]), rho=float(ref["rho"]))
        if np.allclose(got, ref["black"], atol=tol):
            return self.wrong("black")
        if np.allclose(got, ref["grey"].T, atol=tol):
            return self.wrong("transposed")
        if np.allclose(got, -ref["grey"], atol=tol):
            return self.wrong("sign")
        return self.wrong("different", diff=float(np.abs(got - ref["grey"]).max()))


SECTION_4_STEPS = {
    "classifier": ["conv_preds"],
    "classifier + last block": ["conv_preds", "conv_pw_13", "conv_pw_13_bn", "conv_dw_13",
                                "conv_dw_13_bn"],
}


def _block(n: int) -> list[str]:
    return [f"conv_pw_{n}", f"conv_pw_{n}_bn", f"conv_dw_{n}", f"conv_dw_{n}_bn"]


class DeeperCascade(Exercise):
    number = 4
    title = "Deeper randomization"
    answers = ("deeper",)
    where = "home"
    minutes = 15
    starter = '''
    deeper = dict(cascade)   # section 4's two steps; add one step per block, from the top down
    deeper["classifier + blocks 13-12"] = ____   # a list of layer names
    deeper["classifier + blocks 13-11"] = ____
    '''
    hint = """
    A *cascade* keeps everything above randomized while it goes down: each step's list is
    the previous step's list plus the next block's layers. A block of MobileNet has four
    layers with weights: `conv_dw_12`, `conv_dw_12_bn`, `conv_pw_12`, `conv_pw_12_bn`
    (`[l.name for l in model.layers]` lists them). Then run
    `gradcam.randomization_cascade(model, images, result.class_index, deeper, draws=draws,
    seed=lab.seed)` and print its `.table(photo_names)`."""
    solution = '''
    deeper = dict(cascade)
    block = lambda n: [f"conv_pw_{n}", f"conv_pw_{n}_bn", f"conv_dw_{n}", f"conv_dw_{n}_bn"]
    deeper["classifier + blocks 13-12"] = deeper["classifier + last block"] + block(12)
    deeper["classifier + blocks 13-11"] = deeper["classifier + blocks 13-12"] + block(11)
    '''
    explanation = """
    Adebayo et al. randomize cumulatively from the top: once a layer is random, everything
    that reads it is reading noise, so the question at each step is whether the map still
    resembles the trained one with more and more of the network gone. With blocks 12 and 11
    re-drawn too, the feature map itself is no longer the trained one, and Grad-CAM's
    maps drift towards what the architecture alone produces (the checker prints the mean
    rank correlation per step; with 3 draws the numbers are rough). Randomizing one block
    at a time while keeping the others trained ("independent randomization" in the paper)
    asks a different question: which layer the map depends on."""
    messages = {
        "passed": "right: a cascade of {n} steps down to block 11. Mean rank correlation with the "
                  "trained maps (Chelsea, Grace Hopper; 3 draws): {table}",
        "type": "deeper should map step names to lists of layer names, like section 4's cascade",
        "kept": "deeper must keep section 4's two steps first ('classifier', 'classifier + last "
                "block') and add the deeper ones after them",
        "unknown": "layers {layers} are not in the model; layer names are listed by "
                   "[l.name for l in model.layers]",
        "not_cumulative": "step {step!r} does not keep the layers of the step before it randomized "
                          "({missing}); a cascade re-draws each new block on top of the previous "
                          "step's layers",
        "batchnorm": "step {step!r} re-draws {convs} but not their batch norms ({missing}); section 4 "
                     "re-drew each block's batch norms with its convolutions",
        "missing_block": "the last step should reach block 11; it lacks {missing}",
    }
    mistakes = [
        Mistake('''deeper = dict(cascade)
deeper["classifier + blocks 13-12"] = ["conv_pw_12", "conv_pw_12_bn", "conv_dw_12", "conv_dw_12_bn"]
deeper["classifier + blocks 13-11"] = ["conv_pw_11", "conv_pw_11_bn", "conv_dw_11", "conv_dw_11_bn"]''',
                "not_cumulative", "one block at a time (independent, not cascading)"),
        Mistake('''deeper = dict(cascade)
deeper["classifier + blocks 13-12"] = deeper["classifier + last block"] + ["conv_pw_12", "conv_dw_12"]
deeper["classifier + blocks 13-11"] = deeper["classifier + blocks 13-12"] + ["conv_pw_11", "conv_dw_11"]''',
                "batchnorm", "convolutions only, trained batch norms left in place"),
    ]

    def verify(self, deeper):
        if not isinstance(deeper, dict):
            return self.wrong("type")
        for step, layers in deeper.items():
            if layers is ____ or layers is Ellipsis or (
                    isinstance(layers, (list, tuple)) and any(x is ____ for x in layers)):
                raise ExerciseError(f"replace ____ in deeper[{step!r}] with a list of "
                                    "layer names, then run the cell again")
            if not isinstance(layers, (list, tuple)) or not all(isinstance(x, str) for x in layers):
                return self.wrong("type")
        steps = list(deeper)
        if steps[:2] != list(SECTION_4_STEPS) or any(
                list(deeper[s]) != SECTION_4_STEPS[s] for s in SECTION_4_STEPS):
            return self.wrong("kept")
        model = _model()
        known = {layer.name for layer in model.layers}
        unknown = sorted({x for layers in deeper.values() for x in layers} - known)
        if unknown:
            return self.wrong("unknown", layers=unknown)
        for before, step in zip(steps, steps[1:]):
            missing = [x for x in deeper[before] if x not in deeper[step]]
            if missing:
                return self.wrong("not_cumulative", step=step, missing=", ".join(missing))
            for layer in deeper[step]:
                if layer.startswith("conv_") and not layer.endswith("_bn") \
                        and layer != "conv_preds" and layer + "_bn" not in deeper[step]:
                    convs = ", ".join(x for x in deeper[step] if x.startswith(("conv_pw", "conv_dw"))
                                      and not x.endswith("_bn"))
                    return self.wrong("batchnorm", step=step, convs=convs,
                                      missing=f"{layer}_bn ...")
        lacking = [x for x in _block(11) + _block(12) if x not in deeper[steps[-1]]]
        if lacking:
            return self.wrong("missing_block", missing=", ".join(lacking))
        from edgelab.gradcam import GradCam, randomization_cascade

        images = np.concatenate([_image(CAT_PHOTO), _image(HOPPER_PHOTO)])
        classes = GradCam(model).explain(images).class_index
        result = randomization_cascade(model, images, classes, deeper, draws=3, seed=0,
                                       upsample=False)
        table = "; ".join(f"{step}: " + ", ".join(f"{m:.2f}" for m in rho.mean(axis=0))
                          for step, rho in result.rho.items())
        return self.passed(n=len(steps), table=table)
