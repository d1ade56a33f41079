"""Lesson 06: line art from colour illustrations - one line per stroke, not two.

* :mod:`~edgelab.lineart.extract` - dilate, subtract, invert, threshold (OpenCV and a
  bit-identical NumPy reference), and the edge detectors it is compared with;
* :mod:`~edgelab.lineart.batch` - the batch tool behind ``edgelab lineart``: folders of
  images to PNG line art, and line-art/colour pairs for a colourization data set;
* :mod:`~edgelab.lineart.synthetic` - a drawn test illustration whose true strokes are
  known, so "one line per stroke" can be measured, and the scores against it;
* :mod:`~edgelab.lineart.timing` - warm-up, then the median and interquartile range of
  single calls (as notebooks 07 and 08 time models).

The names a notebook needs are importable from here (``from edgelab import lineart``).
"""

from edgelab.lineart.batch import (IMAGE_SUFFIXES, INDEX_FILES, BatchResult, UnreadableImage,
                                   build_pairs, convert, find_images, limit_size, read_image,
                                   read_pairs, write_png)
from edgelab.lineart.extract import (BACKENDS, CHANNEL_ORDERS, EDGE_METHODS, MODES,
                                     LineArtExtractor, LineArtSteps, canny_lines, checksum,
                                     composite_on_white, dilate_numpy, extract_line_art,
                                     extract_line_art_numpy, gray_numpy, laplacian_lines,
                                     otsu_threshold, prepare, sobel_lines, to_8bit)
from edgelab.lineart.timing import Timing, time_calls

__all__ = ["IMAGE_SUFFIXES", "INDEX_FILES", "BatchResult", "UnreadableImage", "build_pairs",
           "convert", "find_images", "limit_size", "read_image", "read_pairs", "write_png",
           "BACKENDS", "CHANNEL_ORDERS", "EDGE_METHODS", "MODES", "LineArtExtractor",
           "LineArtSteps", "canny_lines", "checksum", "composite_on_white", "dilate_numpy",
           "extract_line_art", "extract_line_art_numpy", "gray_numpy", "laplacian_lines",
           "otsu_threshold", "prepare", "sobel_lines", "to_8bit", "Timing", "time_calls"]
