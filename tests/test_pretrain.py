"""The committed quick-profile weights are reproducible from the documented recipe."""

import json

import pytest

from vidlab import backbones, config, pretrain
from vidlab.download import file_sha256


@pytest.mark.slow
def test_retraining_with_the_documented_recipe_reaches_the_documented_accuracy(tmp_path):
    model, accuracy = pretrain.train(verbose=0)
    assert accuracy >= pretrain.DOCUMENTED_ACCURACY
    pretrain.save(model, "shapes_vgg", accuracy, tmp_path)
    manifest = json.loads((tmp_path / backbones.MANIFEST).read_text())
    assert manifest["shapes_vgg.weights.h5"]["recipe"] == pretrain.RECIPE


def test_the_manifest_documents_the_recipe_of_the_committed_weights():
    manifest = json.loads((config.DATA_DIR / backbones.MANIFEST).read_text())
    entry = manifest["shapes_vgg.weights.h5"]
    assert entry["recipe"] == pretrain.RECIPE
    assert entry["still_image_accuracy"] >= pretrain.DOCUMENTED_ACCURACY
    assert entry["sha256"] == file_sha256(config.DATA_DIR / "shapes_vgg.weights.h5")
