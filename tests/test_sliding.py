"""Sliding-clip inference: which clips are cut, and that the model only ever sees small batches."""

import numpy as np
import pytest

from vidlab.sliding import VideoPrediction, clip_starts, predict_video


def numbered_video(num_frames, size=2):
    """A video whose every pixel holds its frame number, so clips say where they come from."""
    return np.broadcast_to(
        np.arange(num_frames, dtype=np.float32)[:, None, None, None], (num_frames, size, size, 1)
    ).copy()


def test_clips_start_every_stride_and_the_last_one_ends_at_the_last_frame():
    np.testing.assert_array_equal(clip_starts(10, 4, 3), [0, 3, 6])
    np.testing.assert_array_equal(clip_starts(11, 4, 3), [0, 3, 6, 7])
    np.testing.assert_array_equal(clip_starts(8, 4, 4), [0, 4])


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


class RecordingModel:
    """Records the clips it is given (their frame numbers) and how far the video was read."""

    def __init__(self, read=None):
        self.clips, self.frames_read, self.read = [], [], read

    def predict_on_batch(self, clips):
        self.clips += [clip[:, 0, 0, 0].tolist() for clip in clips]
        if self.read is not None:
            self.frames_read.append(self.read[0])
        return np.ones((len(clips), 2)) / 2


def test_a_video_shorter_than_a_clip_gives_one_clip_padded_with_its_last_frame():
    model = RecordingModel()

    prediction = predict_video(model, numbered_video(3), clip_len=5, stride=2, batch_size=1)

    np.testing.assert_array_equal(prediction.starts, [0])
    assert model.clips == [[0, 1, 2, 2, 2]]


def test_every_clip_holds_the_frames_from_its_start():
    model = RecordingModel()

    prediction = predict_video(model, numbered_video(11), clip_len=4, stride=3, batch_size=4)

    np.testing.assert_array_equal(prediction.starts, clip_starts(11, 4, 3))
    assert model.clips == [list(range(start, start + 4)) for start in prediction.starts]


def test_frames_can_stream_in_and_are_read_only_as_far_as_the_next_batch_needs():
    read = [0]

    def frames():
        for frame in numbered_video(40):
            read[0] += 1
            yield frame

    model = RecordingModel(read)
    streamed = predict_video(model, frames(), clip_len=8, stride=4, batch_size=2)
    whole = predict_video(RecordingModel(), numbered_video(40), clip_len=8, stride=4,
                          batch_size=2)

    np.testing.assert_array_equal(streamed.starts, whole.starts)
    np.testing.assert_array_equal(streamed.clip_probabilities, whole.clip_probabilities)
    assert model.frames_read[:3] == [12, 20, 28]  # a batch of 2 clips as soon as they are read


def test_an_empty_video_is_refused():
    with pytest.raises(ValueError, match="at least one frame"):
        predict_video(RecordingModel(), iter([]), clip_len=4)
