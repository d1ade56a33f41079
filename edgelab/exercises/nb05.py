"""Notebook 05's exercises: TF Hub handles, fine-tuning by published names, batch norm's mode.

Every checker works on the objects the learner passes (a list of variables, a folder, a
model, a function), never on the notebook's globals, and runs offline: the Hub module is
edgelab's own build, and the one model check is a forward pass on a small random batch.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np

from edgelab.exercises.core import ____, Exercise, ExerciseError, Mistake

TOP = (11, 12, 13)            # exercise 1: the top three blocks
MOMENTUM = 0.997              # exercise 3: the model card's suggestion for fine-tuning


def _names(variables) -> list[str]:
    return [getattr(v, "name", repr(v)) for v in variables]


class TopBlocksByName(Exercise):
    number = 1
    title = "The top blocks, chosen by their published names"
    answers = ("tuned_vars",)
    where = "class"
    minutes = 10
    starter = '''
    # The trainable variables of MobileNet's top three blocks (11, 12 and 13), picked from
    # module.trainable_variables by their TF-Slim names (section 3), without edgehub.top_blocks.
    tuned_vars = ____   # a list of variables
    '''
    hint = '''
    A block's variables live under MobilenetV1/Conv2d_<i>_depthwise/ and
    MobilenetV1/Conv2d_<i>_pointwise/. Test the block number, not a prefix of the name:
    "Conv2d_1" is also the beginning of "Conv2d_11". edgehub.block_of(name) returns the number.
    '''
    solution = '''
    tuned_vars = [v for v in module.trainable_variables if edgehub.block_of(v.name) in (11, 12, 13)]
    print(len(tuned_vars), "variables,", edgehub.count_params(tuned_vars), "parameters")
    '''
    explanation = '''
    TF-Slim numbers MobileNet v1's convolutions from the input: Conv2d_0 is the stem, then
    Conv2d_<i>_depthwise and Conv2d_<i>_pointwise for blocks 1 to 13, each with its batch norm.
    The top three blocks are 11, 12 and 13: per block a depthwise and a pointwise kernel and
    two batch-norm parameters each (gamma, beta), 18 variables. The moving mean and variance
    are variables too, but not trainable ones: batch norm updates them itself, never a
    gradient. Every published MobileNet v1 module uses these names, so the same selection
    works on the 1.0-width module.
    '''
    messages = {
        "passed": "right: {n} variables of blocks 11-13, {params:,} parameters, "
                  "{share:.0%} of the module's trainable parameters",
        "type": "tuned_vars should be a list of the module's variables, not {kind}",
        "empty": "tuned_vars is empty: no variable name matched; print "
                 "[v.name for v in module.trainable_variables][:10] to see the names",
        "moving": "you included {n} moving statistics ({example}): they are in module.variables "
                  "but not in module.trainable_variables, because batch norm updates them itself, "
                  "never a gradient",
        "prefix": "your selection includes blocks {extra}: a name test like \"Conv2d_1\" in the "
                  "name also matches Conv2d_10 to Conv2d_13 (and Conv2d_1_...). Compare the block "
                  "number: edgehub.block_of(v.name) in (11, 12, 13)",
        "blocks": "you chose blocks {got}; the top three are 11, 12 and 13 (numbered 1 to 13 "
                  "from the input, 0 being the stem)",
        "half": "you have only the {have} convolutions of blocks 11-13; each block is a depthwise "
                "and a pointwise convolution, both with batch norm",
        "no_bn": "you left out batch norm's gamma and beta of blocks 11-13 ({n} variables); they "
                 "are trainable and belong to the block",
        "other": "tuned_vars has {n} variables, {expected} expected; missing: {missing}; extra: {extra}",
    }
    mistakes = [
        Mistake('tuned_vars = [v for v in module.trainable_variables if "Conv2d_1" in v.name]',
                "prefix", "a prefix test that also matches Conv2d_10..13"),
        Mistake("tuned_vars = [v for v in module.variables if edgehub.block_of(v.name) in (11, 12, 13)]",
                "moving", "module.variables instead of module.trainable_variables"),
        Mistake("tuned_vars = [v for v in module.trainable_variables if edgehub.block_of(v.name) > 11]",
                "blocks", "an off-by-one: blocks 12 and 13 only"),
        Mistake('tuned_vars = [v for v in module.trainable_variables\n'
                '              if "pointwise" in v.name and edgehub.block_of(v.name) >= 11]',
                "half", "the pointwise convolutions only"),
    ]

    def verify(self, tuned_vars):
        from edgelab.hub import offline, transfer

        if isinstance(tuned_vars, (str, bytes)) or not hasattr(tuned_vars, "__iter__"):
            return self.wrong("type", kind=type(tuned_vars).__name__)
        tuned_vars = list(tuned_vars)
        if not tuned_vars:
            return self.wrong("empty")
        names = [n.split(":")[0] for n in _names(tuned_vars)]
        expected = [n for n in offline.published_variable_names("feature_vector")
                    if transfer.block_of(n) in TOP and not n.endswith(("moving_mean", "moving_variance"))]
        moving = [n for n in names if n.endswith(("moving_mean", "moving_variance"))]
        if moving:
            return self.wrong("moving", n=len(moving), example=moving[0])
        blocks = sorted({transfer.block_of(n) for n in names} - {None})
        extra_blocks = [b for b in blocks if b not in TOP]
        if extra_blocks and set(extra_blocks) & {1, 10}:
            return self.wrong("prefix", extra=", ".join(map(str, extra_blocks)))
        if set(blocks) != set(TOP):
            return self.wrong("blocks", got=", ".join(map(str, blocks)) or "none")
        if sorted(set(names)) == sorted(expected):
            params = transfer.count_params(tuned_vars)
            return self.passed(n=len(names), params=params,
                               share=params / offline_trainable_params())
        if all("pointwise" in n for n in names) or all("depthwise" in n for n in names):
            return self.wrong("half", have="pointwise" if "pointwise" in names[0] else "depthwise")
        missing = sorted(set(expected) - set(names))
        if missing and all("/BatchNorm/" in n for n in missing):
            return self.wrong("no_bn", n=len(missing))
        return self.wrong("other", n=len(names), expected=len(expected),
                          missing=", ".join(missing[:3]) or "none",
                          extra=", ".join(sorted(set(names) - set(expected))[:3]) or "none")


def offline_trainable_params() -> int:
    """Trainable parameters of MobileNet v1 0.25 without its classifier (its shapes, no weights)."""
    from edgelab.hub import offline

    total, channels = 0, 3
    width = lambda c: int(c * offline.ALPHA)  # noqa: E731
    out = width(offline.STEM_FILTERS)
    total += 3 * 3 * channels * out + 2 * out
    channels = out
    for filters, _ in offline.BLOCKS:
        total += 3 * 3 * channels + 2 * channels          # depthwise kernel + gamma, beta
        out = width(filters)
        total += channels * out + 2 * out                  # pointwise kernel + gamma, beta
        channels = out
    return total


class HubCacheOffline(Exercise):
    number = 2
    title = "A TF Hub cache you fill yourself"
    answers = ("module_dir",)
    where = "class"
    minutes = 10
    starter = '''
    import hashlib, shutil
    cache_dir = lab.out / "my_hub_cache"   # stands for a cache copied over from a connected machine
    module_dir = ____   # the folder inside cache_dir where tensorflow_hub keeps FEATURE_HANDLE
    # then copy the module you have into it:
    # shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)
    '''
    hint = '''
    tensorflow_hub names each cached model's folder by the sha1 of the handle string, exactly
    as written: hashlib.sha1(FEATURE_HANDLE.encode("utf8")).hexdigest(). The folder holds the
    SavedModel itself (saved_model.pb, variables/), one level below the cache folder.
    '''
    solution = '''
    import hashlib, shutil
    cache_dir = lab.out / "my_hub_cache"
    module_dir = cache_dir / hashlib.sha1(FEATURE_HANDLE.encode("utf8")).hexdigest()
    shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)
    '''
    explanation = '''
    hub.KerasLayer(handle) and hub.load(handle) resolve a URL through tensorflow_hub's cache
    first: $TFHUB_CACHE_DIR/<sha1 of the handle>, and only download when that folder is
    missing or empty. So a model downloaded once on a connected machine (run hub.resolve there
    with TFHUB_CACHE_DIR set) is carried to an offline one by copying that folder; with
    TFHUB_CACHE_DIR pointing at the copy, the handle loads without a network, by
    tensorflow_hub itself and by edgehub.resolve, which looks in the same place.
    '''
    messages = {
        "passed": "right: {name} is the sha1 of FEATURE_HANDLE; with TFHUB_CACHE_DIR={cache}, "
                  "edgehub.resolve finds it in the '{source}' (tensorflow_hub's hub.KerasLayer would "
                  "load it from there too, without a network)",
        "type": "module_dir should be a folder path (a pathlib.Path or str), not {kind}",
        "other_handle": "the folder is named after the sha1 of {other}; this exercise caches "
                        "FEATURE_HANDLE ({want}), so its sha1 is {sha1}",
        "not_sha1": "the folder is named {name!r}; tensorflow_hub names it by the sha1 of the "
                    "handle, a 40-digit hex string: {sha1}",
        "flat": "module_dir is the cache folder itself: a cache holds one folder per model, named by "
                "the sha1 of its handle, with the SavedModel inside",
        "missing": "{name} is the right name but holds no saved_model.pb yet: copy the module into "
                   "it with shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)",
        "not_found": "edgehub.resolve did not find FEATURE_HANDLE in your cache ({outcome})",
    }
    mistakes = [
        Mistake('''
import hashlib, shutil
cache_dir = lab.out / "my_hub_cache_flat"
module_dir = cache_dir
shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)
''', "flat", "the SavedModel copied straight into the cache folder"),
        Mistake('''
import hashlib, shutil
cache_dir = lab.out / "my_hub_cache_md5"
module_dir = cache_dir / hashlib.md5(FEATURE_HANDLE.encode("utf8")).hexdigest()
shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)
''', "not_sha1", "md5 instead of sha1"),
        Mistake('''
import hashlib, shutil
cache_dir = lab.out / "my_hub_cache_classifier"
module_dir = cache_dir / hashlib.sha1(edgehub.CLASSIFIER_HANDLE.encode("utf8")).hexdigest()
shutil.copytree(feature_handle, module_dir, dirs_exist_ok=True)
''', "other_handle", "the sha1 of section 2's classifier handle"),
    ]

    def verify(self, module_dir):
        from edgelab.hub import handles

        if not isinstance(module_dir, (str, os.PathLike)):
            return self.wrong("type", kind=type(module_dir).__name__)
        module_dir = Path(module_dir)
        handle = handles.feature_vector_handle(224)
        key = handles.cache_key(handle)
        if handles.is_saved_model(module_dir) and not _hexname(module_dir.name):
            return self.wrong("flat")
        if module_dir.name != key:
            others = {handles.cache_key(h): h for h in handles.KNOWN_HANDLES}
            if module_dir.name in others:
                return self.wrong("other_handle", other=others[module_dir.name], want=handle, sha1=key)
            return self.wrong("not_sha1", name=module_dir.name, sha1=key)
        if not handles.is_saved_model(module_dir):
            return self.wrong("missing", name=module_dir.name)
        before = os.environ.get(handles.CACHE_VAR)
        os.environ[handles.CACHE_VAR] = str(module_dir.parent)
        try:
            found = handles.resolve(handle, online=False, build=False)
        except handles.HubHandleError as err:
            return self.wrong("not_found", outcome=str(err).splitlines()[0])
        finally:
            if before is None:
                os.environ.pop(handles.CACHE_VAR, None)
            else:
                os.environ[handles.CACHE_VAR] = before
        return self.passed(name=module_dir.name, cache=module_dir.parent.name, source=found.source)


def _hexname(name: str) -> bool:
    return len(name) in (32, 40) and all(c in "0123456789abcdef" for c in name)


class BatchNormTraining(Exercise):
    number = 3
    title = "Batch norm in training mode while fine-tuning"
    answers = ("bn_features", "bn_model")
    where = "class"
    minutes = 15
    starter = '''
    bn_features = ____   # a hub.KerasLayer of feature_handle, fine-tunable, batch-norm momentum 0.997
    bn_model = ____      # image -> bn_features (batch norm in training mode during fit) -> Dense(17)
    '''
    hint = '''
    hub.KerasLayer(handle, trainable=True, arguments=dict(batch_norm_momentum=0.997)) passes
    the momentum to the module's call. Section 4 called the layer with training=False, which
    pins batch norm to inference mode; call it as bn_features(inputs) and Keras passes
    training=True during fit. hub.KerasLayer only forwards training=True when the layer is
    trainable.
    '''
    solution = '''
    bn_features = hub.KerasLayer(feature_handle, trainable=True,
                                 arguments=dict(batch_norm_momentum=0.997), name="bn_features")
    inputs = tf_keras.Input((S.image_size, S.image_size, 3))
    bn_model = tf_keras.Model(inputs, tf_keras.layers.Dense(flowers17.NUM_CLASSES)(bn_features(inputs)))
    '''
    explanation = '''
    In training mode batch norm normalises each batch with that batch's own mean and variance
    and moves its moving averages towards them by (1 - momentum) per step; in inference mode
    it uses the moving averages and leaves them alone. hub.KerasLayer passes training=True to
    the module only when the layer is trainable *and* the model is training. With 680
    augmented flower photos in batches of 32, batch statistics are noisy and differ from the
    ImageNet statistics the model is evaluated with, which is why this lesson (and the Keras
    guide) fine-tunes with training=False. The model card sets the default momentum to 0.99
    "to accelerate training on small datasets" and names 0.997 as another value advanced
    users can pass; with it the moving averages follow the batches more slowly. To compare the two on your own run, fine-tune
    bn_model with section 5's FineTuner and recipe, and compare validation accuracies with
    section 6's paired test on the validation split.
    '''
    messages = {
        "passed": "right: one training-mode forward pass moves batch norm's moving statistics "
                  "(by {moved:.2e} at most here), with momentum {momentum}",
        "not_layer": "bn_features should be a hub.KerasLayer, not {kind}",
        "not_model": "bn_model should be a tf_keras model, not {kind}",
        "not_inside": "bn_model does not contain bn_features: build the model by calling "
                      "bn_features on the input",
        "not_trainable": "bn_features is not trainable: hub.KerasLayer passes training=True to the "
                         "module only when the layer is trainable, so batch norm stays in inference "
                         "mode. Pass trainable=True",
        "momentum": "bn_features uses batch-norm momentum {got}; the exercise asks for the model "
                    "card's 0.997: arguments=dict(batch_norm_momentum=0.997)",
        "frozen_bn": "batch norm did not run in training mode: a training-mode pass left the moving "
                     "statistics unchanged. Calling the layer with training=False (as section 4 "
                     "does) pins it to inference mode; call it as bn_features(inputs)",
    }
    mistakes = [
        Mistake('''
bn_features = hub.KerasLayer(feature_handle, trainable=True,
                             arguments=dict(batch_norm_momentum=0.997))
inputs = tf_keras.Input((S.image_size, S.image_size, 3))
bn_model = tf_keras.Model(inputs, tf_keras.layers.Dense(17)(bn_features(inputs, training=False)))
''', "frozen_bn", "kept section 4's training=False"),
        Mistake('''
bn_features = hub.KerasLayer(feature_handle, arguments=dict(batch_norm_momentum=0.997))
inputs = tf_keras.Input((S.image_size, S.image_size, 3))
bn_model = tf_keras.Model(inputs, tf_keras.layers.Dense(17)(bn_features(inputs)))
''', "not_trainable", "left the layer frozen (trainable defaults to False)"),
        Mistake('''
bn_features = hub.KerasLayer(feature_handle, trainable=True)
inputs = tf_keras.Input((S.image_size, S.image_size, 3))
bn_model = tf_keras.Model(inputs, tf_keras.layers.Dense(17)(bn_features(inputs)))
''', "momentum", "kept the default momentum 0.99"),
    ]

    def verify(self, bn_features, bn_model):
        import tensorflow as tf
        import tensorflow_hub as hub

        if not isinstance(bn_features, hub.KerasLayer):
            return self.wrong("not_layer", kind=type(bn_features).__name__)
        if not (hasattr(bn_model, "layers") and callable(bn_model)):
            return self.wrong("not_model", kind=type(bn_model).__name__)
        if not any(layer is bn_features for layer in bn_model.layers):
            return self.wrong("not_inside")
        if not bn_features.trainable:
            return self.wrong("not_trainable")
        arguments = dict(getattr(bn_features, "_arguments", None) or {})
        momentum = float(arguments.get("batch_norm_momentum", 0.99))
        if abs(momentum - MOMENTUM) > 1e-9:
            return self.wrong("momentum", got=momentum)
        moving = [v for v in bn_features.variables if "moving_" in v.name]
        before = [v.numpy() for v in moving]
        shape = [2] + [int(d) for d in bn_model.input_shape[1:]]
        x = tf.constant(np.random.default_rng(0).random(shape, np.float32))
        try:
            bn_model(x, training=True)
            moved = max(float(np.max(np.abs(v.numpy() - b))) for v, b in zip(moving, before))
        finally:
            for v, b in zip(moving, before):
                v.assign(b)
        if moved == 0.0:
            return self.wrong("frozen_bn")
        return self.passed(moved=moved, momentum=momentum)


class NearestClassMean(Exercise):
    number = 4
    title = "A baseline without training: the nearest class mean"
    answers = ("nearest_mean",)
    where = "home"
    minutes = 15
    starter = '''
    def nearest_mean(train_features, train_labels, features):
        """For each row of `features`, the label whose mean training feature vector is nearest
        (Euclidean distance). Labels are 0..K-1."""
        return ____
    '''
    hint = '''
    The class means: np.stack([train_features[train_labels == k].mean(axis=0) for k in
    range(K)]). The distance of every feature row to every mean: broadcast
    features[:, None, :] - means[None, :, :], take the norm over the last axis, then argmin
    over the classes (axis=1).
    '''
    solution = '''
    def nearest_mean(train_features, train_labels, features):
        train_features, features = np.asarray(train_features), np.asarray(features)
        classes = int(np.max(train_labels)) + 1
        means = np.stack([train_features[np.asarray(train_labels) == k].mean(axis=0)
                          for k in range(classes)])
        distances = np.linalg.norm(features[:, None, :] - means[None, :, :], axis=-1)
        return distances.argmin(axis=1)
    '''
    explanation = '''
    The nearest class mean needs no training at all: it asks whether the frozen feature
    vectors already separate the flowers. To compare it with the trained head, compute the
    features of a frozen layer, f = hub.KerasLayer(feature_handle), for the training and the
    validation images (np.concatenate([f(x).numpy() for x, _ in ds])), then
    np.mean(nearest_mean(f_train, y_train, f_val) == y_val) against section 4's validation
    accuracy. Use the Euclidean distance: a dot product favours the classes whose mean vector
    is long, not the ones that are close.
    '''
    messages = {
        "passed": "right: your function matches the nearest class mean on every test case "
                  "(including means of different lengths and labels out of order)",
        "not_function": "nearest_mean should be a function, not {kind}",
        "shape": "nearest_mean returned shape {got} for {n} query rows; return one label per row "
                 "(argmin over the classes, axis=1)",
        "dot": "your function picks the class whose mean has the largest dot product with the "
               "feature; that favours long mean vectors ({case}). Use the distance: "
               "np.linalg.norm(features[:, None] - means[None], axis=-1).argmin(axis=1)",
        "one_class": "every query gets the same label ({label}): the mean must be taken per class, "
                     "train_features[train_labels == k].mean(axis=0) for each k",
        "order": "your labels are positions in the order the classes first appear, not the class "
                 "numbers: index the means by class number k = 0..K-1",
        "wrong": "on a small test case your function predicts {got} where the nearest class means "
                 "give {want}",
    }
    mistakes = [
        Mistake('''
def nearest_mean(train_features, train_labels, features):
    classes = int(np.max(train_labels)) + 1
    means = np.stack([train_features[train_labels == k].mean(axis=0) for k in range(classes)])
    return (features @ means.T).argmax(axis=1)
''', "dot", "a dot-product similarity instead of a distance"),
        Mistake('''
def nearest_mean(train_features, train_labels, features):
    classes = int(np.max(train_labels)) + 1
    means = np.stack([train_features[train_labels == k].mean(axis=0) for k in range(classes)])
    return np.linalg.norm(features[:, None, :] - means[None, :, :], axis=-1).argmin(axis=0)
''', "shape", "argmin over the wrong axis"),
        Mistake('''
def nearest_mean(train_features, train_labels, features):
    _, first = np.unique(train_labels, return_index=True)
    order = np.asarray(train_labels)[np.sort(first)]
    means = np.stack([train_features[train_labels == k].mean(axis=0) for k in order])
    return np.linalg.norm(features[:, None, :] - means[None, :, :], axis=-1).argmin(axis=1)
''', "order", "classes numbered in the order they first appear"),
    ]

    def verify(self, nearest_mean):
        if not callable(nearest_mean):
            return self.wrong("not_function", kind=type(nearest_mean).__name__)
        # Case 1: three classes whose means differ in length; the queries sit next to the
        # short mean but have a larger dot product with the long one.
        train = np.array([[1.0, 0.0], [1.2, 0.0], [0.0, 5.0], [0.0, 5.4], [-3.0, -3.0],
                          [-3.2, -2.8]], np.float32)
        labels = np.array([0, 0, 1, 1, 2, 2])
        queries = np.array([[1.5, 1.0], [0.2, 4.0], [-2.0, -2.5], [1.0, 1.8]], np.float32)
        want = _reference(train, labels, queries)
        got = nearest_mean(train.copy(), labels.copy(), queries.copy())
        if got is ____ or got is Ellipsis or got is None:
            raise ExerciseError("nearest_mean still returns ____: replace it with your code, then "
                                "run the cell again")
        got = np.asarray(got)
        if got.shape != want.shape:
            return self.wrong("shape", got=got.shape, n=len(queries))
        if len(set(got.tolist())) == 1 and len(set(want.tolist())) > 1:
            return self.wrong("one_class", label=int(got[0]))
        if not np.array_equal(got, want):
            dot = (queries @ np.stack([train[labels == k].mean(0) for k in range(3)]).T).argmax(1)
            if np.array_equal(got, dot):
                means = np.stack([train[labels == k].mean(0) for k in range(3)])
                d0, d1 = (float(np.linalg.norm(queries[3] - means[k])) for k in (0, 1))
                ratio = float(np.linalg.norm(means[1]) / np.linalg.norm(means[0]))
                return self.wrong("dot", case=f"the query (1.0, 1.8) is {d0:.1f} from class 0's "
                                  f"mean and {d1:.1f} from class 1's, whose mean is {ratio:.0f} "
                                  "times longer")
            return self.wrong("wrong", got=got.tolist(), want=want.tolist())
        # Case 2: the same points with the classes listed out of order.
        perm = np.array([4, 5, 2, 3, 0, 1])
        got = np.asarray(nearest_mean(train[perm].copy(), labels[perm].copy(), queries.copy()))
        if not np.array_equal(got, want):
            return self.wrong("order")
        return self.passed()


def _reference(train, labels, queries):
    means = np.stack([train[labels == k].mean(axis=0) for k in range(int(labels.max()) + 1)])
    return np.linalg.norm(queries[:, None] - means[None], axis=-1).argmin(axis=1)
