"""Lesson 03: Grad-CAM - where a classifier looks, for Keras and Sonnet models.

* :mod:`~edgelab.gradcam.cam` - Grad-CAM and Grad-CAM++ (one ``tf.function`` per model),
  and how a Keras model is cut at its last feature map;
* :mod:`~edgelab.gradcam.display` - resizing, colouring and blending a map, the figure;
* :mod:`~edgelab.gradcam.sanity` - localisation (two objects, heat share), the
  model-randomisation cascade;
* :mod:`~edgelab.gradcam.imagenet` - the pretrained ImageNet classifier the lesson explains.

The names a notebook needs are importable from here: ``from edgelab import gradcam`` then
``gradcam.GradCam(model)``, ``gradcam.overlay(image, heatmap)``.
"""

from edgelab.gradcam.cam import METHODS, Explanation, GradCam, gradcam, gradcam_plus_plus
from edgelab.gradcam.display import (colorize, contour_grid, figure, overlay, resize_heatmap,
                                     top_k)
from edgelab.gradcam.sanity import (Cascade, heat_share, randomization_cascade,
                                    randomize_weights, randomized_copy, rank_correlation,
                                    two_objects)

__all__ = ["METHODS", "Explanation", "GradCam", "gradcam", "gradcam_plus_plus", "colorize", "contour_grid",
           "figure", "overlay", "resize_heatmap", "top_k", "Cascade", "heat_share",
           "randomization_cascade", "randomize_weights", "randomized_copy", "rank_correlation",
           "two_objects"]
