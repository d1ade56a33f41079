"""edgelab.pytorch (notebook 08): the network's options, the naive Keras port of each, the
dilation rewritten as a dense kernel, litert-torch's channel-last outputs, and training that
selects its epoch on the validation split. Needs the torch extra."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from edgelab.pytorch import naive  # noqa: E402
from edgelab.pytorch.model import TinyU2Net  # noqa: E402


def _model(**kwargs):
    torch.manual_seed(0)
    m = TinyU2Net(32, num_classes=5, width=4, **kwargs).eval()
    with torch.no_grad():     # BatchNorm statistics far from the identity, as after training
        for bn in (m.enc1[1], m.enc2[2], m.enc3[1], m.dec2[1], m.dec1[1]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
    return m


def _x(n=2, size=32):
    return torch.from_numpy(np.random.default_rng(0).random((n, 3, size, size), dtype=np.float32))


def test_head_grid_and_mask_channels_shape_the_outputs():
    mask, logits = _model()(_x())
    assert mask.shape == (2, 1, 32, 32) and logits.shape == (2, 5)
    mask, logits = _model(head_grid=1, mask_channels=2)(_x())
    assert mask.shape == (2, 2, 32, 32) and logits.shape == (2, 5)
    # global pooling works at any size; the 4 x 4 head's flatten does not
    mask, logits = _model(head_grid=1)(_x(size=48))
    assert mask.shape == (2, 1, 48, 48) and logits.shape == (2, 5)
    with pytest.raises(ValueError, match="multiple of 4 \\* head_grid"):
        TinyU2Net(40, head_grid=4)


@pytest.mark.parametrize("options", [{}, {"head_grid": 1, "mask_channels": 2}])
def test_the_naive_port_computes_what_pytorch_computes(options):
    model = _model(**options)
    x = _x()
    with torch.no_grad():
        want = [t.numpy() for t in model(x)]
    import tensorflow as tf

    for expand in (False, True):
        # through XLA: TensorFlow's standard CPU kernels refuse an NCHW convolution (only
        # its oneDNN ones, on by default on some CPUs, take it), XLA compiles it anywhere
        port = tf.function(naive.keras_port(model, expand_dilation=expand), jit_compile=True)
        got = port(x.numpy())
        for g, w in zip(got, want):
            np.testing.assert_allclose(np.asarray(g), w, atol=2e-5)


def test_dilation_expanded_is_the_same_function_with_a_5x5_kernel():
    model = _model()
    dense = naive.dilation_expanded(model)
    assert model.enc3[0].dilation == (2, 2) and model.enc3[0].kernel_size == (3, 3)
    assert dense.enc3[0].dilation == (1, 1) and dense.enc3[0].kernel_size == (5, 5)
    x = _x()
    with torch.no_grad():
        for a, b in zip(model(x), dense(x)):
            np.testing.assert_allclose(a.numpy(), b.numpy(), atol=2e-5)


def test_training_keeps_the_epoch_with_the_lowest_validation_loss():
    from edgelab.pytorch import data, training

    rng = np.random.default_rng(0)

    def split(n):
        images = rng.random((n, 3, 32, 32), dtype=np.float32)
        masks = (images.mean(1, keepdims=True) > 0.5).astype(np.float32)
        return data.FlowerMasks(images, masks, rng.integers(0, 5, n))

    train, val = split(40), split(20)
    model = TinyU2Net(32, num_classes=5, width=4)
    history = training.train(model, train, val, epochs=3, batch_size=16, learning_rate=3e-3,
                             progress=False)
    assert len(history.val_loss) == 3 and len(history.val_accuracy) == 3
    assert history.best_epoch == int(np.argmin(history.val_loss)) + 1
    assert training.loss_of(model, val) == pytest.approx(min(history.val_loss), rel=1e-5)
    assert set(history.curves()) == {"loss", "val_loss", "val_mask_iou", "val_accuracy"}
