"""edgelab.edge: ship a Keras model to a phone or a micro-controller, and read models others built.

Notebook 07's toolbox, one module per concern:

* :mod:`~edgelab.edge.convert`: Keras 3 model or SavedModel -> TFLite, as float32,
  dynamic-range int8, float16 or full-integer int8 (with a representative dataset);
* :mod:`~edgelab.edge.evaluate`: accuracy, file size and per-image latency of .tflite
  files with the LiteRT interpreter (``tf.lite`` as fallback), in one table and figure;
* :mod:`~edgelab.edge.inspect`: parse a .tflite FlatBuffer into a layer table, a summary,
  Graphviz DOT, a matplotlib drawing and flatc-style JSON (also ``edgelab inspect``);
* :mod:`~edgelab.edge.compress`: magnitude pruning and knowledge distillation;
* :mod:`~edgelab.edge.onnx_export`: Keras -> ONNX with tf2onnx, run with onnxruntime;
* :mod:`~edgelab.edge.sources`: the models the lesson converts (from notebooks 01 and 05,
  or trained here) and its calibration/evaluation images from the data layer.

Importing this package imports nothing heavy; TensorFlow, LiteRT, tflite, tf2onnx and
onnxruntime are imported inside the functions that need them.
"""
