"""What notebook 02 uses around its models: the echo series, full-batch training, causality."""

import keras
import numpy as np
import pytest
from keras import layers

from vidlab.config import seed_everything
from vidlab.forecasting import echo_series, fit_full_batch, frame_influence, next_frame_pairs
from vidlab.sequences import split_sequence

TOY = [10, 20, 30, 40, 50, 60, 70, 80, 90]
FRAME = (8, 8, 1)  # tiny frames: the causality tests check wiring, not learning


def small_lstm(units=8):
    return keras.Sequential([keras.Input((3, 1)), layers.LSTM(units, activation="relu"),
                             layers.Dense(1)])


# --------------------------------------------------------------------------- full batch


def test_full_batch_training_on_the_toy_makes_the_updates_fit_makes():
    """Fewer windows than a batch: the same updates as fit, minus fit's per-epoch cost."""
    X, y = split_sequence(TOY, 3)
    X, y = X[..., None], y[:, None]
    seed_everything(0)
    by_fit = small_lstm()
    by_fit.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = by_fit.fit(X, y, epochs=20, verbose=0, shuffle=False)
    seed_everything(0)
    full_batch = small_lstm()

    losses = fit_full_batch(full_batch, X, y, steps=20, learning_rate=0.01)

    assert losses.shape == (20,)
    np.testing.assert_allclose(losses, history.history["loss"], rtol=1e-4)
    np.testing.assert_allclose(full_batch.predict_on_batch(X), by_fit.predict_on_batch(X),
                               rtol=1e-4)


def test_full_batch_training_is_seeded_and_lowers_the_loss():
    X, y = split_sequence(TOY, 3)

    def run(seed):
        seed_everything(seed)
        return fit_full_batch(small_lstm(4), X[..., None], y[:, None], steps=30)

    first = run(0)
    np.testing.assert_array_equal(first, run(0))
    assert not np.array_equal(first, run(1))
    assert first[-1] < first[0]


# --------------------------------------------------------------------------- echo series


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


# --------------------------------------------------------------------------- next frame


def clips(n=2, steps=5, frame=FRAME, seed=0):
    return np.random.default_rng(seed).random((n, steps, *frame)).astype("float32")


def test_pairs_shift_every_clip_by_one_frame():
    video = np.arange(2 * 4 * 3 * 3 * 1, dtype="float32").reshape(2, 4, 3, 3, 1)

    inputs, targets = next_frame_pairs(video)

    assert inputs.shape == targets.shape == (2, 3, 3, 3, 1)
    assert inputs.dtype == targets.dtype == np.float32
    for t in range(3):
        np.testing.assert_array_equal(inputs[:, t], video[:, t])
        np.testing.assert_array_equal(targets[:, t], video[:, t + 1])


def test_pairs_do_not_share_memory_with_the_clips():
    video = clips()
    inputs, targets = next_frame_pairs(video)
    inputs[:] = -1
    targets[:] = -1

    assert video.min() >= 0


@pytest.mark.parametrize(
    ("shape", "message"),
    [((2, 1, 8, 8, 1), "at least 2 frames"), ((2, 4, 8, 8), r"\(N, T, H, W, C\)")],
)
def test_pairs_reject_what_cannot_be_shifted(shape, message):
    with pytest.raises(ValueError, match=message):
        next_frame_pairs(np.zeros(shape))


def convlstm_then(head):
    """A ConvLSTM2D over time followed by ``head``: a small stand-in for notebook 02's models."""
    frames = keras.Input((None, *FRAME))
    state = layers.ConvLSTM2D(2, 3, padding="same", return_sequences=True)(frames)
    return keras.Model(frames, head(state))


def test_a_per_frame_head_is_causal_and_frame_influence_shows_it():
    """Prediction t depends on frames 0..t only: changing frame k moves nothing before k."""
    model = convlstm_then(layers.TimeDistributed(layers.Conv2D(1, 3, padding="same")))
    video = clips(steps=5)

    for k in range(5):
        moved = frame_influence(model, video, k)
        assert moved.shape == (5,)
        np.testing.assert_array_equal(moved[:k], 0.0)
        assert moved[k] > 0, "the prediction at step k should depend on frame k"


def test_a_conv3d_head_over_time_leaks_the_next_frame_and_frame_influence_sees_it():
    """Same padding over time lets step k-1 read frame k (the target of step k-1)."""
    model = convlstm_then(layers.Conv3D(1, 3, padding="same"))
    video = clips(steps=5)

    for k in range(1, 5):
        moved = frame_influence(model, video, k)
        assert moved[k - 1] > 0
        np.testing.assert_array_equal(moved[: k - 1], 0.0)


def test_frame_influence_rejects_a_frame_outside_the_clip():
    model = convlstm_then(layers.TimeDistributed(layers.Conv2D(1, 3, padding="same")))

    with pytest.raises(ValueError, match="between 0 and 4"):
        frame_influence(model, clips(steps=5), 5)
