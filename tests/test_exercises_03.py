"""Notebook 03's exercise checkers can fail: the reference solution passes, the untouched
starter is "not done yet", and each realistic mistake gets its own message.

The namespace stands in for the notebook at its exercise cells: the ImageNet MobileNet, the
photos, section 2's hand-written Grad-CAM helpers and section 4's cascade.
"""

from __future__ import annotations

import numpy as np
import pytest

from _exercises import prove

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def build_context() -> dict:
    import keras
    import tensorflow as tf

    from edgelab import gradcam
    from edgelab.datasets import samples
    from edgelab.exercises import nb03
    from edgelab.gradcam import imagenet

    model = nb03._model()
    names = imagenet.class_names()
    photos = [samples.load_image(n) for n in ("chelsea.png", "grace_hopper.jpg")]
    images = imagenet.preprocess(photos)
    cam = gradcam.GradCam(model)
    two_outputs = keras.Model(model.input, [model.get_layer(cam.layer).output,
                                            model.get_layer("predictions").input])

    def feature_map_and_gradient(batch, class_index):
        with tf.GradientTape() as tape:
            A, scores = two_outputs(batch)
            y = tf.reduce_sum(scores * tf.one_hot(class_index, scores.shape[-1]), axis=1)
        return A.numpy(), tape.gradient(y, A).numpy()

    def grad_cam_formula(A, grads):
        L = np.maximum(np.einsum("nhwk,nk->nhw", A, grads.mean(axis=(1, 2))), 0.0)
        peak = L.max(axis=(1, 2), keepdims=True)
        return np.divide(L, peak, out=np.zeros_like(L), where=peak > 0)

    return dict(np=np, tf=tf, keras=keras, gradcam=gradcam, imagenet=imagenet, model=model,
                names=names, photos=photos, images=images, cam=cam,
                coffee=samples.load_image("coffee.png"),
                feature_map_and_gradient=feature_map_and_gradient,
                grad_cam_formula=grad_cam_formula, cascade=dict(nb03.SECTION_4_STEPS), draws=2)


@pytest.fixture(scope="module")
def context():
    return build_context()


@pytest.mark.parametrize("number", [1, 2, 3, 4])
def test_exercise(number, context):
    prove("03", number, context)
