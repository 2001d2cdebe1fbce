"""Detection dataset formats in and out of Ground Truth augmented manifests.

``gtflow manifest import --format voc|coco|yolo`` and ``gtflow manifest export --format
voc|coco|yolo|sagemaker-json|lst`` are built on these functions:

- :func:`import_dataset` - a PASCAL VOC folder, a COCO JSON file or a YOLO folder to a GT
  object-detection manifest (images copied into the store or referenced);
- :func:`export_manifest` - a manifest to VOC XML, COCO JSON, YOLO txt, the SageMaker Object
  Detection algorithm's image + per-image JSON format, or an im2rec ``.lst``;
- :func:`to_manifest_line` / :func:`from_manifest_line` - one image either way.

Per-format readers and writers live in ``voc``, ``coco``, ``yolo`` and ``sagemaker_od``.
"""

from __future__ import annotations

from gtflow.formats._types import AnnotatedImage, Box, ImportReport
from gtflow.formats.bridge import (
    EXPORT_FORMATS,
    IMPORT_FORMATS,
    export_manifest,
    from_manifest_line,
    import_dataset,
    manifest_class_map,
    to_manifest_line,
)

__all__ = [
    "AnnotatedImage",
    "Box",
    "ImportReport",
    "IMPORT_FORMATS",
    "EXPORT_FORMATS",
    "import_dataset",
    "export_manifest",
    "to_manifest_line",
    "from_manifest_line",
    "manifest_class_map",
]
