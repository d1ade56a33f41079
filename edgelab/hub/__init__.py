"""Lesson 05: MobileNet with TensorFlow Hub - classify, extract features, fine-tune.

* :mod:`~edgelab.hub.handles` - a Hub handle to a local SavedModel folder (local folder,
  Hub cache, download when online, else edgelab's offline build), with a clear error;
* :mod:`~edgelab.hub.offline` - the offline build: TF-Hub-format MobileNet v1 modules made
  from the data layer's Keras ImageNet weights;
* :mod:`~edgelab.hub.transfer` - Hub input format, top classes, fine-tuning the top
  blocks, a SavedModel for notebook 07;
* :mod:`~edgelab.hub.flowers_classifier` - a small Keras 3 flower model (frozen MobileNet
  + new head) for lessons that need one ready (03, 07): its ``load_or_train``.

The names notebook 05 uses are importable from here (``from edgelab import hub as edgehub``).
"""

from edgelab.hub.handles import (CLASSIFIER_HANDLE, FEATURE_VECTOR_HANDLE, KNOWN_HANDLES,
                                 HubHandleError, Resolved, cache_key, hub_cache_dir, resolve,
                                 resolve_handle)
from edgelab.hub.transfer import (count_params, epoch_progress, require_legacy_keras,
                                  save_for_deployment, select_variables, to_hub_input, top_blocks,
                                  top_fine_tuner, top_k)

__all__ = ["CLASSIFIER_HANDLE", "FEATURE_VECTOR_HANDLE", "KNOWN_HANDLES", "HubHandleError",
           "Resolved", "cache_key", "hub_cache_dir", "resolve", "resolve_handle", "count_params",
           "epoch_progress", "require_legacy_keras", "save_for_deployment", "select_variables",
           "to_hub_input", "top_blocks", "top_fine_tuner", "top_k"]
