"""Sliding-clip inference: which clips are cut, and that the model only ever sees small batches."""

import numpy as np
import pytest

from vidlab.sliding import VideoPrediction, clip_starts, predict_video, sliding_clips


def numbered_video(num_frames, size=2):
    """A video whose every pixel holds its frame number, so clips say where they come from."""
    return np.broadcast_to(
        np.arange(num_frames, dtype=np.float32)[:, None, None, None], (num_frames, size, size, 1)
    ).copy()


def test_clips_start_every_stride_and_the_last_one_ends_at_the_last_frame():
    np.testing.assert_array_equal(clip_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(clip_starts(11, 4, 3), [0, 3, 6, 7])
    np.testing.assert_array_equal(clip_starts(8, 4, 4), [0, 4])


def test_a_video_shorter_than_a_clip_gives_one_clip_padded_with_its_last_frame():
    clips, starts = sliding_clips(numbered_video(3), clip_len=5, stride=2)

    np.testing.assert_array_equal(starts, [0])
    np.testing.assert_array_equal(clips[0, :, 0, 0, 0], [0, 1, 2, 2, 2])


def test_sliding_clips_holds_the_right_frames():
    clips, starts = sliding_clips(numbered_video(11), clip_len=4, stride=3)

    assert clips.shape == (4, 4, 2, 2, 1)
    for clip, start in zip(clips, starts, strict=True):
        np.testing.assert_array_equal(clip[:, 0, 0, 0], np.arange(start, start + 4))


@pytest.mark.parametrize("bad", [{"clip_len": 0}, {"stride": 0}])
def test_bad_lengths_are_refused(bad):
    arguments = {"num_frames": 10, "clip_len": 4, "stride": 2} | bad
    with pytest.raises(ValueError, match="at least 1"):
        clip_starts(**arguments)


class FirstFrameModel:
    """Two 'classes': the clip's first frame number and 1; records every batch it gets."""

    def __init__(self):
        self.batch_sizes = []

    def predict_on_batch(self, clips):
        self.batch_sizes.append(len(clips))
        first = clips[:, 0, 0, 0, 0]
        return np.stack([first, np.ones_like(first)], axis=1)


def test_predict_video_batches_the_clips_and_averages_their_predictions():
    model = FirstFrameModel()

    prediction = predict_video(model, numbered_video(20), clip_len=4, stride=2, batch_size=3)

    assert isinstance(prediction, VideoPrediction)
    np.testing.assert_array_equal(prediction.starts, np.arange(0, 17, 2))
    assert max(model.batch_sizes) == 3 and sum(model.batch_sizes) == 9
    np.testing.assert_array_equal(prediction.clip_probabilities[:, 0], prediction.starts)
    np.testing.assert_allclose(prediction.probabilities, [8.0, 1.0])
    assert prediction.top(1) == [(0, 8.0)]


def test_every_model_call_gets_a_full_batch_so_a_compiled_model_traces_one_shape():
    model = FirstFrameModel()

    prediction = predict_video(model, numbered_video(20), clip_len=4, stride=2, batch_size=4)

    assert model.batch_sizes == [4, 4, 4], "9 clips: the last batch is padded from 1 to 4"
    np.testing.assert_array_equal(prediction.clip_probabilities[:, 0], np.arange(0, 17, 2))
    np.testing.assert_allclose(prediction.probabilities, [8.0, 1.0])


def test_predict_video_preprocesses_each_batch_and_accepts_a_plain_function():
    seen = []

    def model(clips):
        seen.append(clips.dtype)
        return np.ones((len(clips), 3)) / 3

    prediction = predict_video(
        model, numbered_video(9).astype(np.uint8), clip_len=4,
        preprocess=lambda clips: clips.astype(np.float32) / 255.0,
    )

    np.testing.assert_array_equal(prediction.starts, [0, 4, 5])
    assert seen == [np.float32]
    np.testing.assert_allclose(prediction.probabilities, 1 / 3)
