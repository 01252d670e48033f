"""Forecasting helpers of notebook 02: full-batch training, batched forecasts, the echo."""

import numpy as np
import pytest

from vidlab.models.forecasting import (
    SUBSEQUENCE_VARIANTS,
    VARIANTS,
    echo_series,
    fit_forecaster,
    fit_forecaster_full_batch,
    forecast,
    forecast_windows,
    reshape_for,
)
from vidlab.sequences import split_sequence

TOY = [10, 20, 30, 40, 50, 60, 70, 80, 90]


def test_full_batch_training_on_the_toy_matches_fit_to_rounding():
    """Fewer windows than a batch: the same updates as fit, minus fit's per-epoch cost."""
    by_fit, history = fit_forecaster("vanilla_lstm", TOY, epochs=20, units=8, learning_rate=0.01)
    full_batch, losses = fit_forecaster_full_batch("vanilla_lstm", TOY, steps=20, units=8)

    assert losses.shape == (20,)
    np.testing.assert_allclose(losses, history.history["loss"], rtol=1e-4)
    assert forecast(full_batch, "vanilla_lstm", [70, 80, 90]) == pytest.approx(
        forecast(by_fit, "vanilla_lstm", [70, 80, 90]), rel=1e-4
    )


def test_full_batch_training_is_seeded():
    def run(seed):
        _, losses = fit_forecaster_full_batch(
            "conv_lstm", TOY[:-1], n_steps=4, steps=3, units=4, seed=seed
        )
        return losses

    np.testing.assert_array_equal(run(0), run(0))
    assert not np.array_equal(run(0), run(1))


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_forecast_windows_agrees_with_forecast_window_by_window(name):
    model = VARIANTS[name](4, units=4)
    X, _ = split_sequence(np.arange(10.0), 4)

    many = forecast_windows(model, name, X)

    assert many.shape == (len(X),)
    expected = [forecast(model, name, window) for window in X]
    np.testing.assert_allclose(many, expected, rtol=1e-5, atol=1e-5)


def test_forecast_windows_reads_the_sub_sequence_split_from_the_model():
    name = SUBSEQUENCE_VARIANTS[1]
    model = VARIANTS[name](6, units=4, n_seq=3)
    X, _ = split_sequence(np.arange(10.0), 6)

    assert forecast_windows(model, name, X).shape == (len(X),)
    assert reshape_for(name, X, 3).shape[1:] == model.input_shape[1:]


def test_echo_series_is_seeded_float32_and_has_its_echo():
    y = echo_series(4000, lag=7, echo=0.9, noise=0.3, seed=0)

    assert y.dtype == np.float32 and y.shape == (4000,)
    np.testing.assert_array_equal(y, echo_series(4000, lag=7, echo=0.9, noise=0.3, seed=0))
    residual = y[7:] - 0.9 * y[:-7]
    assert residual.std() == pytest.approx(0.3, rel=0.05)
    assert np.corrcoef(y[7:], y[:-7])[0, 1] > 0.8
    assert abs(np.corrcoef(y[1:], y[:-1])[0, 1]) < 0.1


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"lag": 0}, "lag >= 1"),
        ({"length": 5, "lag": 7}, "length > lag"),
        ({"echo": 1.0}, "below 1"),
    ],
)
def test_echo_series_rejects_impossible_settings(kwargs, message):
    with pytest.raises(ValueError, match=message):
        echo_series(**kwargs)
