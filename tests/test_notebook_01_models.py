"""Notebook 01 writes its models in its cells; the package keeps one copy for later notebooks.

Notebooks 03 and 04 get ``shapes_vgg`` cut at ``fc2`` from ``backbones.get_backbone``, and
``python -m vidlab.pretrain`` trains ``backbones.build_shapes_vgg``. These tests read notebook
01's cells, run them, and check that they build the very same models (d2l's pattern): the same
layers in the same order, with the same output shapes and parameter counts, and, for the cut,
the same features and the same key in the feature cache.
"""

import contextlib
import io
import json
from pathlib import Path

import keras
import numpy as np
import pytest

from vidlab import backbones, pretrain
from vidlab.tools import course

NOTEBOOK = Path(__file__).resolve().parent.parent / "notebooks" / "01_frame_features.ipynb"


def cell_defining(text: str) -> str:
    """The source of the one code cell of notebook 01 that contains ``text`` (for a cell that
    defines no function, which ``course.definitions`` looks for)."""
    cells = json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "code"]
    found = [s for s in sources if text in s]
    assert len(found) == 1, f"{len(found)} code cells of notebook 01 contain {text!r}"
    return found[0]


def architecture(model) -> list[tuple]:
    """Every layer's type, name, output shape and parameter count, in order."""
    return [(type(layer).__name__, layer.name, tuple(layer.output.shape), layer.count_params())
            for layer in model.layers]


@pytest.fixture(scope="module")
def notebook_cells() -> dict:
    """The namespace after running the builder cell and the recipe cell (quick profile)."""
    namespace = course.definitions(NOTEBOOK, "build_shapes_vgg", keras=keras,
                                   layers=keras.layers, backbones=backbones, PROFILE="quick")
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(cell_defining('get_layer("fc2")'), namespace)
    namespace["printed"] = printed.getvalue()
    return namespace


def test_the_notebook_builds_the_shapes_vgg_the_package_trains(notebook_cells):
    in_notebook = notebook_cells["build_shapes_vgg"]()
    in_package = backbones.build_shapes_vgg()
    assert architecture(in_notebook) == architecture(in_package)
    assert in_notebook.count_params() == in_package.count_params()
    assert {k: tuple(v.shape) for k, v in in_notebook.output.items()} == {
        k: tuple(v.shape) for k, v in in_package.output.items()}


def test_the_notebook_cut_is_get_backbones_shapes_vgg(notebook_cells):
    """Same layers, same weights, same features, same cache key: notebooks 03 and 04 read the
    features notebook 01 computed."""
    extractor, backbone = notebook_cells["extractor"], notebook_cells["backbone"]
    package = backbones.get_backbone("shapes_vgg", "quick")
    assert backbone.model is extractor
    assert architecture(extractor) == architecture(package.model)
    assert extractor.name == package.model.name
    assert (backbone.name, backbone.input_size, backbone.feature_dim, backbone.weights_id) == (
        package.name, package.input_size, package.feature_dim, package.weights_id)
    frames = backbone.preprocess(pretrain.render_stills(8, seed=11)[0])
    np.testing.assert_array_equal(extractor.predict_on_batch(frames),
                                  package.model.predict_on_batch(frames))


def test_the_recipe_cell_prints_the_layers_it_keeps(notebook_cells):
    printed = notebook_cells["printed"]
    assert "fc2" in printed and "predictions" not in printed and "shape " not in printed
    assert printed.strip().endswith("64x64 RGB -> 256 features, 2,289,216 parameters")


def test_the_full_profile_cuts_vgg16_at_fc2(monkeypatch, tmp_path):
    """The same cell on the full profile: VGG16 (random weights here, offline), cut at fc2,
    4,096 features of 224x224 frames, preprocessed as its ImageNet weights expect."""
    vgg16 = keras.applications.VGG16
    weights = tmp_path / "vgg16.h5"
    weights.write_bytes(b"stands in for the ImageNet file; the network keeps random weights")
    monkeypatch.setattr(backbones, "imagenet_weights", lambda name: weights)
    monkeypatch.setattr(keras.applications, "VGG16",
                        lambda weights: vgg16(weights=None))
    namespace = {"keras": keras, "layers": keras.layers, "backbones": backbones,
                 "PROFILE": "full"}
    with contextlib.redirect_stdout(io.StringIO()) as printed:
        exec(cell_defining('get_layer("fc2")'), namespace)
    backbone = namespace["backbone"]
    assert (backbone.name, backbone.input_size, backbone.feature_dim) == ("vgg16_fc2", 224, 4096)
    assert backbone.model.layers[-1].name == "fc2"
    assert backbone.classifier.layers[-1].name == "predictions"
    assert printed.getvalue().strip().endswith(
        "vgg16_fc2: 224x224 RGB -> 4096 features, 134,260,544 parameters")
