"""edgelab.pytorch: notebook 08, from a PyTorch model to a LiteRT file (NCHW to NHWC).

* :mod:`~edgelab.pytorch.model`: :class:`TinyU2Net`, a small segmentation + classification
  network with U^2-Net's ingredients (BN+ReLU convolutions, a depthwise convolution,
  max-pooling, a dilated convolution, bilinear upsampling, channel-axis concat skips);
* :mod:`~edgelab.pytorch.data`: Flower17 photos as NCHW arrays with their class and a mask
  computed by a colour rule (Flower17 has no hand-drawn masks here);
* :mod:`~edgelab.pytorch.training`: a short Adam run, mask IoU and class accuracy;
* :mod:`~edgelab.pytorch.export`: ``torch.onnx.export`` and ``litert-torch``;
* :mod:`~edgelab.pytorch.naive`: the same network ported to channels-first Keras, to see
  the TRANSPOSE ops a layout-blind conversion leaves.

The ONNX -> NHWC TFLite route with onnx2tf, and the comparison of all routes, live in
:mod:`edgelab.edge.onnx_convert` (also the ``edgelab convert`` command). PyTorch and the
converters come with the optional extra: ``tools/install.sh --extras torch``. Importing
this package imports none of them.
"""
