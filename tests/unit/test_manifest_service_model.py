"""Our label-attribute rules match botocore's SageMaker service model (drift is caught here)."""

from __future__ import annotations

import botocore.session

from gtflow.manifest.limits import (
    AUGMENTED_MANIFEST_MAX_ATTRIBUTES,
    LABEL_ATTRIBUTE_MAX_LENGTH,
    LABEL_ATTRIBUTE_PATTERN,
)


def test_label_attribute_name_matches_botocore() -> None:
    model = botocore.session.get_session().get_service_model("sagemaker")
    shape = model.shape_for("LabelAttributeName")
    assert shape.metadata["pattern"] == LABEL_ATTRIBUTE_PATTERN
    assert shape.metadata["max"] == LABEL_ATTRIBUTE_MAX_LENGTH
    assert model.shape_for("AttributeNames").metadata["max"] == AUGMENTED_MANIFEST_MAX_ATTRIBUTES
