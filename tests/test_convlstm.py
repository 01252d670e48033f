"""Next-frame prediction with a ConvLSTM: shifted pairs, shapes, and above all causality."""

import keras
import numpy as np
import pytest

from vidlab.models.convlstm import (
    build_leaky_next_frame_model,
    build_next_frame_model,
    frame_influence,
    next_frame_pairs,
)

FRAME = (8, 8, 1)  # tiny frames: these tests check wiring, not learning


def clips(n=2, steps=5, frame=FRAME, seed=0):
    return np.random.default_rng(seed).random((n, steps, *frame)).astype("float32")


def with_random_weights(model, seed=0):
    """Give every weight (the zero-initialised head included) a random value."""
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0.0, 0.5, w.shape) for w in model.get_weights()])
    return model


# --------------------------------------------------------------------------- pairs


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


# --------------------------------------------------------------------------- the model


@pytest.mark.parametrize("residual", [True, False])
def test_the_model_predicts_one_frame_per_input_frame_for_any_length(residual):
    model = build_next_frame_model(FRAME, filters=2, residual=residual)

    for steps in (1, 3, 6):
        assert tuple(model(clips(steps=steps)).shape) == (2, steps, *FRAME)


def test_the_residual_model_starts_as_copy_the_last_frame():
    """Its head is zero-initialised: untrained, it predicts that nothing moves."""
    video = clips()

    np.testing.assert_array_equal(build_next_frame_model(FRAME, filters=2)(video), video)


def test_the_sigmoid_head_predicts_frames_in_zero_one():
    model = with_random_weights(build_next_frame_model(FRAME, filters=2, residual=False))
    prediction = keras.ops.convert_to_numpy(model(clips()))

    assert prediction.min() >= 0.0
    assert prediction.max() <= 1.0


@pytest.mark.parametrize("residual", [True, False])
def test_a_change_to_frame_k_never_reaches_predictions_before_step_k(residual):
    """The causality check: prediction t may only depend on frames 0..t."""
    model = with_random_weights(build_next_frame_model(FRAME, filters=2, residual=residual))
    video = clips(steps=5)

    for k in range(5):
        moved = frame_influence(model, video, k)
        assert moved.shape == (5,)
        np.testing.assert_array_equal(moved[:k], 0.0)
        assert moved[k] > 0, "the prediction at step k should depend on frame k"


def test_the_conv3d_head_leaks_the_next_frame_and_the_check_sees_it():
    """The counter-example: same padding over time lets step k-1 read frame k."""
    model = with_random_weights(build_leaky_next_frame_model(FRAME, filters=2))
    video = clips(steps=5)

    for k in range(1, 5):
        moved = frame_influence(model, video, k)
        assert moved[k - 1] > 0
        np.testing.assert_array_equal(moved[: k - 1], 0.0)


def test_frame_influence_rejects_a_frame_outside_the_clip():
    model = build_next_frame_model(FRAME, filters=2)

    with pytest.raises(ValueError, match="between 0 and 4"):
        frame_influence(model, clips(steps=5), 5)
