"""Lesson 05: MobileNet with TensorFlow Hub - classify, extract features, fine-tune.

* :mod:`~edgelab.hub.handles` - a Hub handle (Kaggle Models or its old tfhub.dev name) to a
  local SavedModel folder (local folder, Hub cache, download when online, else edgelab's
  offline build), with a clear error;
* :mod:`~edgelab.hub.offline` - the offline build: MobileNet v1 modules made from the data
  layer's Keras ImageNet weights, with the published modules' interface (call, outputs,
  TF-Slim variable names and order, regularisation losses);
* :mod:`~edgelab.hub.transfer` - Hub input format, top classes, choosing the top blocks by
  their published names, fine-tuning them, standard errors, saving for notebook 07;
* :mod:`~edgelab.hub.flowers_classifier` - a small Keras 3 flower model (frozen MobileNet
  + new head) for lessons that need one ready (03, 07): its ``load_or_train``.

The names notebook 05 uses are importable from here (``from edgelab import hub as edgehub``).
"""

from edgelab.hub.handles import (CLASSIFIER_HANDLE, FEATURE_VECTOR_HANDLE, FEATURE_VECTOR_HANDLES,
                                 KNOWN_HANDLES, HubHandleError, Resolved, cache_key,
                                 feature_vector_handle, hub_cache_dir, resolve, resolve_handle)
from edgelab.hub.transfer import (accuracy_standard_error, block_of, count_params,
                                  epoch_progress, require_legacy_keras, save_for_deployment,
                                  save_h5, select_variables, to_hub_input, top_blocks,
                                  top_fine_tuner, top_k)

__all__ = ["CLASSIFIER_HANDLE", "FEATURE_VECTOR_HANDLE", "FEATURE_VECTOR_HANDLES", "KNOWN_HANDLES",
           "HubHandleError", "Resolved", "cache_key", "feature_vector_handle", "hub_cache_dir",
           "resolve", "resolve_handle", "accuracy_standard_error", "block_of", "count_params",
           "epoch_progress", "require_legacy_keras", "save_for_deployment", "save_h5",
           "select_variables", "to_hub_input", "top_blocks", "top_fine_tuner", "top_k"]
