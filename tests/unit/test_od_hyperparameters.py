"""SageMaker Object Detection hyperparameters as AWS documents them (object-detection-api-config).

Every documented name parses from its string form with a value from the documented range; the
blog post's ``lr_scheduler_step=3,6`` with ``epochs=1`` is accepted (AWS documents no ordering
or epoch bound); unknown names are refused with the full list.
"""

from __future__ import annotations

import pytest

from gtflow.errors import UsageError
from gtflow.training.sagemaker_job import ObjectDetectionHyperParameters as HP

# name -> a valid value taken from the documentation page (type and range column)
DOCUMENTED = {
    "num_classes": "20", "num_training_samples": "16551", "base_network": "vgg-16",
    "early_stopping": "True", "early_stopping_min_epochs": "10", "early_stopping_patience": "5",
    "early_stopping_tolerance": "0.0", "image_shape": "512", "epochs": "30",
    "freeze_layer_pattern": "^(conv1_|conv2_).*", "kv_store": "dist_sync", "label_width": "350",
    "learning_rate": "0.001", "lr_scheduler_factor": "0.1", "lr_scheduler_step": "10,20",
    "mini_batch_size": "32", "momentum": "0.9", "nms_threshold": "0.45", "optimizer": "adadelta",
    "overlap_threshold": "0.5", "use_pretrained_model": "0", "weight_decay": "0.0005",
}


def test_every_documented_name_is_known():
    assert set(HP.names()) == set(DOCUMENTED)


@pytest.mark.parametrize("name", sorted(DOCUMENTED))
def test_each_documented_value_round_trips(name):
    values = {"num_classes": "2", "num_training_samples": "10", name: DOCUMENTED[name]}
    hp = HP.from_strings(values)
    again = HP.from_strings(hp.to_dict())
    assert again.to_dict() == hp.to_dict()
    if name in hp.to_dict():
        assert hp.to_dict()[name] == DOCUMENTED[name]


def test_post_scheduler_steps_past_epochs_are_accepted():
    hp = HP.from_strings({"num_classes": "20", "num_training_samples": "16551", "epochs": "1",
                          "lr_scheduler_step": "3,6", "base_network": "resnet-50", "use_pretrained_model": "1",
                          "mini_batch_size": "32", "learning_rate": "0.001", "lr_scheduler_factor": "0.1",
                          "optimizer": "sgd", "momentum": "0.9", "weight_decay": "0.0005",
                          "overlap_threshold": "0.5", "nms_threshold": "0.45", "image_shape": "512",
                          "label_width": "350"})
    d = hp.to_dict()
    assert d["epochs"] == "1" and d["lr_scheduler_step"] == "3,6"


def test_unknown_names_list_the_valid_ones():
    with pytest.raises(UsageError) as info:
        HP.from_strings({"num_classes": "2", "num_training_samples": "3", "lr": "0.1", "epoch": "3"})
    msg = str(info.value)
    assert "unknown hyperparameters epoch, lr" in msg
    for name in DOCUMENTED:
        assert name in msg
    assert "`" not in msg


@pytest.mark.parametrize("name,value,words", [
    ("early_stopping", "yes", "is not True or False"),
    ("epochs", "1.5", "is not an integer"),
    ("learning_rate", "fast", "is not a number"),
    ("lr_scheduler_step", "3;6", "comma-separated list of epochs"),
])
def test_bad_values_have_clear_messages(name, value, words):
    with pytest.raises(UsageError, match=words):
        HP.from_strings({"num_classes": "2", "num_training_samples": "3", name: value})
