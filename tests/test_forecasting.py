"""The five forecasters: their input layouts, their errors, and that they learn the toy."""


import keras
import numpy as np
import pytest

from vidlab.models.forecasting import VARIANTS, fit_forecaster, forecast, reshape_for

TOY = [10, 20, 30, 40, 50, 60, 70, 80, 90]

#: The documented input of each variant for windows of 4 steps (2 sub-sequences of 2).
LAYOUTS = {
    "vanilla_lstm": (4, 1),
    "stacked_lstm": (4, 1),
    "bidirectional_lstm": (4, 1),
    "cnn_lstm": (2, 2, 1),
    "conv_lstm": (2, 1, 2, 1),
}


def test_every_variant_has_a_documented_layout():
    assert set(VARIANTS) == set(LAYOUTS)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_builder_reads_its_layout_and_outputs_one_value_per_window(name):
    model = VARIANTS[name](4, units=8)
    x = reshape_for(name, np.arange(12.0).reshape(3, 4))

    assert model.input_shape[1:] == x.shape[1:] == LAYOUTS[name]
    assert tuple(model(x).shape) == (3, 1)


@pytest.mark.parametrize("name", sorted(LAYOUTS))
def test_every_recurrent_layer_uses_relu_as_in_the_classic_toy(name):
    model = VARIANTS[name](4, units=8)
    recurrent = [
        getattr(layer, "forward_layer", layer)
        for layer in model.layers
        if isinstance(layer, keras.layers.RNN | keras.layers.Bidirectional)
    ]

    assert recurrent
    assert all(layer.activation is keras.activations.relu for layer in recurrent)


def test_stacked_lstm_feeds_the_whole_first_sequence_to_the_second_lstm():
    lstms = [
        layer
        for layer in VARIANTS["stacked_lstm"](3).layers
        if isinstance(layer, keras.layers.LSTM)
    ]

    assert [layer.return_sequences for layer in lstms] == [True, False]


def test_reshape_for_keeps_the_window_order_within_sub_sequences():
    x = reshape_for("conv_lstm", [[10, 20, 30, 40, 50, 60]], n_seq=3)

    assert x.shape == (1, 3, 1, 2, 1)
    np.testing.assert_array_equal(x[0, :, 0, :, 0], [[10, 20], [30, 40], [50, 60]])


@pytest.mark.parametrize("name", ["cnn_lstm", "conv_lstm"])
def test_sub_sequence_variants_need_n_steps_equal_to_n_seq_times_n_sub(name):
    with pytest.raises(ValueError, match=r"n_steps must equal n_seq \* n_sub"):
        reshape_for(name, np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"n_steps must equal n_seq \* n_sub"):
        VARIANTS[name](5, n_seq=2)


@pytest.mark.parametrize(
    ("name", "X", "kwargs", "message"),
    [
        ("lstm", np.zeros((2, 3)), {}, "Unknown variant 'lstm'"),
        ("vanilla_lstm", np.zeros(3), {}, "must be 2-D"),
        ("vanilla_lstm", np.zeros((2, 4)), {"n_seq": 2}, "n_seq applies only to"),
    ],
)
def test_reshape_for_rejects_what_it_cannot_lay_out(name, X, kwargs, message):
    with pytest.raises(ValueError, match=message):
        reshape_for(name, X, **kwargs)


def test_forecast_rejects_a_window_of_the_wrong_length():
    model = VARIANTS["vanilla_lstm"](3, units=4)

    with pytest.raises(ValueError, match="windows of 3 values; got 2"):
        forecast(model, "vanilla_lstm", [80, 90])


def test_vanilla_lstm_learns_the_toy_series():
    model, history = fit_forecaster(
        "vanilla_lstm", TOY, n_steps=3, epochs=100, seed=0, learning_rate=0.01
    )

    assert forecast(model, "vanilla_lstm", [70, 80, 90]) == pytest.approx(100, abs=3)
    assert len(history.history["loss"]) == 100


def test_same_seed_gives_the_same_forecast_and_another_seed_does_not():
    def forecast_after_fit(seed):
        model, _ = fit_forecaster("vanilla_lstm", TOY, n_steps=3, epochs=3, seed=seed, units=8)
        return forecast(model, "vanilla_lstm", [70, 80, 90])

    first = forecast_after_fit(seed=0)

    assert forecast_after_fit(seed=0) == first
    assert forecast_after_fit(seed=1) != first
