"""Specification of vidlab.video: reading, sampling, resizing and writing video files."""

from __future__ import annotations

import os
import sys
import warnings

import cv2
import numpy as np
import pytest

from vidlab import video
from vidlab.video import VideoReadError, read_frames, read_video, sample_indices, write_video

# --------------------------------------------------------------------------- helpers


def ramp(num_frames: int = 20, height: int = 48, width: int = 80) -> np.ndarray:
    """A grey clip whose frame ``i`` has brightness ``10 * i``: frames identify themselves."""
    return np.stack([np.full((height, width, 3), 10 * i, np.uint8) for i in range(num_frames)])


def frame_ids(clip: np.ndarray) -> list[int]:
    """Recover the frame numbers of a decoded :func:`ramp` clip (JPEG shifts levels a little)."""
    means = clip.reshape(len(clip), -1).mean(axis=1)
    ids = np.round(means / 10).astype(int)
    assert np.all(np.abs(means - 10 * ids) < 4), f"not a ramp clip: frame means {means}"
    return ids.tolist()


def smooth_clip(num_frames: int = 8, height: int = 48, width: int = 64) -> np.ndarray:
    """A colourful, smooth moving pattern (JPEG reproduces smooth content closely)."""
    y, x = np.mgrid[0:height, 0:width].astype(float)
    frames = []
    for t in range(num_frames):
        r = 128 + 100 * np.sin((x + 3 * t) / 9)
        g = 128 + 100 * np.cos((y - 2 * t) / 7)
        b = np.full_like(x, 60.0 + 10 * t)
        frames.append(np.stack([r, g, b], axis=-1))
    return np.clip(np.round(frames), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def ramp_avi(tmp_path_factory):
    """A 20-frame, 48x80 MJPG .avi whose frame i has brightness 10 * i."""
    return write_video(tmp_path_factory.mktemp("ramp") / "ramp.avi", ramp())


@pytest.fixture(scope="module")
def short_avi(tmp_path_factory):
    """A 5-frame ramp clip, shorter than the clip lengths asked for below."""
    return write_video(tmp_path_factory.mktemp("short") / "short.avi", ramp(5))


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_write_then_read_returns_uint8_rgb_frames_of_the_same_shape_and_close_values(
    tmp_path, suffix
):
    """write_video + read_video round-trip a clip: same (T, H, W, 3), uint8, values close.

    MJPG and mp4v are lossy, so values are compared on average, not exactly.
    """
    clip = smooth_clip()
    path = write_video(tmp_path / f"clip{suffix}", clip)
    back = read_video(path)
    assert back.shape == clip.shape
    assert back.dtype == np.uint8
    assert back.flags["C_CONTIGUOUS"]
    assert np.abs(back.astype(int) - clip).mean() < 8


@pytest.mark.parametrize("suffix", [".avi", ".mp4"])
def test_frames_come_back_in_rgb_order_not_opencvs_bgr(tmp_path, suffix):
    """A pure red clip reads back with a high channel 0 (R) and a low channel 2 (B)."""
    red = np.zeros((4, 32, 32, 3), np.uint8)
    red[..., 0] = 255
    back = read_video(write_video(tmp_path / f"red{suffix}", red))
    assert back[..., 0].mean() > 200
    assert back[..., 2].mean() < 50


def test_num_frames_none_reads_every_frame_in_order(ramp_avi):
    """Without num_frames, every frame is decoded, in file order."""
    assert frame_ids(read_video(ramp_avi)) == list(range(20))


def test_uniform_sampling_keeps_the_linspace_indices_over_the_whole_clip(ramp_avi):
    """sampling="uniform" keeps frames np.linspace(0, T - 1, num_frames) (rounded)."""
    clip = read_video(ramp_avi, num_frames=5)
    expected = np.linspace(0, 19, 5).round().astype(int).tolist()
    assert expected == [0, 5, 10, 14, 19]
    assert clip.shape == (5, 48, 80, 3)
    assert frame_ids(clip) == expected


def test_uniform_sampling_is_deterministic(ramp_avi):
    """Uniform sampling involves no randomness: two reads are identical."""
    np.testing.assert_array_equal(
        read_video(ramp_avi, num_frames=7), read_video(ramp_avi, num_frames=7)
    )


def test_consecutive_sampling_reads_from_start_every_step(ramp_avi):
    """sampling="consecutive" reads num_frames frames from start, every step frames."""
    clip = read_video(ramp_avi, num_frames=4, sampling="consecutive", start=3, step=2)
    assert frame_ids(clip) == [3, 5, 7, 9]


def test_consecutive_sampling_starts_at_the_first_frame_by_default(ramp_avi):
    """Without start, consecutive sampling begins at frame 0."""
    assert frame_ids(read_video(ramp_avi, num_frames=3, sampling="consecutive")) == [0, 1, 2]


def test_consecutive_start_outside_the_clip_is_a_value_error(ramp_avi):
    """A start at or past the clip's end is an argument error, not a file error."""
    with pytest.raises(ValueError, match="start"):
        read_video(ramp_avi, num_frames=2, sampling="consecutive", start=25)


def test_random_sampling_with_a_seed_is_reproducible(ramp_avi):
    """sampling="random" with the same seed returns the same frames."""
    a = read_video(ramp_avi, num_frames=4, sampling="random", seed=7)
    b = read_video(ramp_avi, num_frames=4, sampling="random", seed=7)
    np.testing.assert_array_equal(a, b)


def test_random_sampling_takes_a_consecutive_window_inside_the_clip(ramp_avi):
    """Random sampling picks a window of consecutive frames that stays inside the clip."""
    for seed in range(5):
        ids = frame_ids(read_video(ramp_avi, num_frames=4, sampling="random", seed=seed))
        assert ids == list(range(ids[0], ids[0] + 4))
        assert 0 <= ids[0] and ids[-1] <= 19


def test_random_sampling_with_different_seeds_can_pick_different_windows(ramp_avi):
    """Different seeds do not all land on the same window."""
    starts = {
        frame_ids(read_video(ramp_avi, num_frames=4, sampling="random", seed=s))[0]
        for s in range(8)
    }
    assert len(starts) > 1


@pytest.mark.parametrize("sampling", ["uniform", "consecutive", "random"])
def test_a_clip_shorter_than_num_frames_is_padded_never_truncated(short_avi, sampling):
    """Asking 8 frames of a 5-frame clip returns 8 frames, repeating some, for every sampling."""
    clip = read_video(short_avi, num_frames=8, sampling=sampling, seed=0)
    assert clip.shape == (8, 48, 80, 3)
    ids = frame_ids(clip)
    assert ids == sorted(ids)
    assert set(ids) <= set(range(5))
    assert ids[-1] == 4


def test_uniform_padding_repeats_frames_evenly(short_avi):
    """Uniform sampling of 8 frames out of 5 spreads the repeats over the clip."""
    assert frame_ids(read_video(short_avi, num_frames=8)) == [0, 1, 1, 2, 2, 3, 3, 4]


def test_consecutive_padding_repeats_the_last_frame(short_avi):
    """A consecutive window running past the end repeats the last frame."""
    clip = read_video(short_avi, num_frames=6, sampling="consecutive", start=2)
    assert frame_ids(clip) == [2, 3, 4, 4, 4, 4]


# --------------------------------------------------------------------------- resizing


@pytest.fixture(scope="module")
def striped_avi(tmp_path_factory):
    """A 48x80 clip: red left band, green centre square, blue right band."""
    frames = np.zeros((3, 48, 80, 3), np.uint8)
    frames[:, :, :16, 0] = 255
    frames[:, :, 16:64, 1] = 255
    frames[:, :, 64:, 2] = 255
    return write_video(tmp_path_factory.mktemp("striped") / "striped.avi", frames)


def test_int_size_resizes_the_short_side_and_centre_crops_a_square(striped_avi):
    """size=32 on a 48x80 clip gives 32x32 frames cut from the middle (only the green part)."""
    clip = read_video(striped_avi, size=32)
    assert clip.shape == (3, 32, 32, 3)
    assert clip.dtype == np.uint8
    inner = clip[:, :, 2:-2].astype(float)
    assert inner[..., 1].mean() > 200
    assert inner[..., 0].mean() < 40 and inner[..., 2].mean() < 40


def test_int_size_equal_to_the_short_side_only_crops(striped_avi):
    """size=48 on a 48x80 clip keeps the scale and crops the central 48 columns."""
    full = read_video(striped_avi)
    np.testing.assert_array_equal(read_video(striped_avi, size=48), full[:, :, 16:64])


@pytest.mark.parametrize("size", [(24, 40), (30, 30), (96, 50)])
def test_tuple_size_resizes_to_exactly_height_by_width(striped_avi, size):
    """size=(H, W) gives exactly H x W frames, whatever the aspect ratio."""
    assert read_video(striped_avi, size=size).shape == (3, *size, 3)


def test_size_combines_with_num_frames(ramp_avi):
    """Sampling and resizing together give (num_frames, S, S, 3)."""
    assert read_video(ramp_avi, num_frames=6, size=16).shape == (6, 16, 16, 3)


# --------------------------------------------------------------------------- odd inputs


def test_a_grayscale_video_reads_as_three_identical_channels(tmp_path):
    """A video written in grayscale (isColor=False) still comes back as (T, H, W, 3)."""
    path = str(tmp_path / "gray.avi")
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"MJPG"), 25.0, (32, 24), False)
    assert writer.isOpened()
    for i in range(5):
        writer.write(np.full((24, 32), 40 * i, np.uint8))
    writer.release()
    clip = read_video(path)
    assert clip.shape == (5, 24, 32, 3)
    spread = clip.astype(int).max(axis=-1) - clip.astype(int).min(axis=-1)
    assert spread.max() <= 3


def test_write_video_accepts_grayscale_frames(tmp_path):
    """write_video takes (T, H, W) grayscale frames; they read back as 3 channels."""
    gray = smooth_clip()[..., 1]
    back = read_video(write_video(tmp_path / "gray.avi", gray))
    assert back.shape == (*gray.shape, 3)
    assert np.abs(back[..., 1].astype(int) - gray).mean() < 8


@pytest.mark.parametrize("channels", [3, 1])
def test_odd_frame_sizes_round_trip_in_avi(tmp_path, channels):
    """A 17x33 clip (odd height and width) keeps its exact size in an .avi file."""
    clip = smooth_clip(6, 17, 33)
    if channels == 1:
        clip = clip[..., 1]
    back = read_video(write_video(tmp_path / "odd.avi", clip))
    assert back.shape == (6, 17, 33, 3)
    expected = clip if channels == 3 else clip[..., None]
    assert np.abs(back.astype(int) - expected).mean() < 8


@pytest.mark.parametrize("suffix", [".avi", ".mkv"])
@pytest.mark.parametrize("channels", [3, 1])
def test_lossless_files_read_back_every_pixel_exactly(tmp_path, suffix, channels):
    """lossless=True: random pixels (the worst case for a lossy codec) read back unchanged."""
    clip = np.random.default_rng(0).integers(0, 256, (5, 48, 64, 3), dtype=np.uint8)
    if channels == 1:
        clip = clip[..., 1]
    back = read_video(write_video(tmp_path / f"exact{suffix}", clip, lossless=True))
    expected = clip if channels == 3 else np.repeat(clip[..., None], 3, axis=-1)
    np.testing.assert_array_equal(back, expected)


@pytest.mark.parametrize(("name", "shape", "match"), [
    ("clip.mp4", (2, 32, 32, 3), r"\.avi or \.mkv"),
    ("odd.avi", (2, 17, 33, 3), "even width and height"),
])
def test_lossless_video_refuses_mp4_files_and_odd_sizes(tmp_path, name, shape, match):
    """Lossless video needs an .avi or .mkv file of even size; nothing is written otherwise."""
    with pytest.raises(ValueError, match=match):
        write_video(tmp_path / name, np.zeros(shape, np.uint8), lossless=True)
    assert list(tmp_path.iterdir()) == []


def test_odd_frame_sizes_are_refused_for_mp4_instead_of_silently_cropped(tmp_path):
    """mp4v needs even sizes: an odd-sized clip raises a ValueError that suggests .avi."""
    with pytest.raises(ValueError, match=r"\.avi"):
        write_video(tmp_path / "odd.mp4", smooth_clip(4, 17, 33))
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- read errors


def test_a_missing_file_raises_file_not_found_naming_the_path(tmp_path):
    """Reading a path that does not exist raises FileNotFoundError with the path in it."""
    path = tmp_path / "nowhere" / "clip.avi"
    with pytest.raises(FileNotFoundError, match="clip.avi") as info:
        read_video(path)
    assert str(path) in str(info.value)


def test_video_read_error_is_a_value_error():
    """VideoReadError subclasses ValueError, so `except ValueError` also catches it."""
    assert issubclass(VideoReadError, ValueError)


@pytest.mark.parametrize(
    "name, content",
    [("empty.mp4", b""), ("garbage.mp4", b"\x13\x37" * 2000), ("garbage.avi", b"RIFF" * 900)],
)
def test_an_empty_or_garbage_file_raises_video_read_error_naming_the_path(tmp_path, name, content):
    """An empty file or random bytes is a VideoReadError that names the file."""
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(VideoReadError) as info:
        read_video(path)
    assert str(path) in str(info.value)


def test_an_mp4_cut_in_half_raises_video_read_error_naming_the_path(tmp_path):
    """A truncated .mp4 (its index lives at the end) cannot be read: VideoReadError."""
    data = write_video(tmp_path / "full.mp4", smooth_clip(12)).read_bytes()
    path = tmp_path / "half.mp4"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(VideoReadError) as info:
        read_video(path)
    assert str(path) in str(info.value)


@pytest.mark.parametrize("fraction", [0.3, 0.5, 0.8])
def test_a_truncated_avi_is_an_error_or_a_warned_prefix_never_a_silent_empty_result(
    tmp_path, fraction
):
    """A cut .avi either raises VideoReadError or returns the frames that decode with a warning.

    Whatever happens, the caller is told: never an empty array, never a silently
    shortened clip when frames are missing.
    """
    full = write_video(tmp_path / "full.avi", ramp()).read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(full[: int(len(full) * fraction)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            clip = read_video(path)
        except VideoReadError as error:
            assert str(path) in str(error)
            return
    assert 0 < len(clip) < 20
    assert frame_ids(clip) == list(range(len(clip)))
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert any("truncated" in m for m in messages), messages


def test_an_avi_cut_at_80_percent_returns_its_readable_frames_with_a_warning(tmp_path):
    """What this OpenCV does with a cut .avi: the decodable frames plus a 'truncated' warning."""
    full = write_video(tmp_path / "full.avi", ramp()).read_bytes()
    path = tmp_path / "cut.avi"
    path.write_bytes(full[: int(len(full) * 0.8)])
    with pytest.warns(UserWarning, match="truncated"):
        clip = read_video(path)
    assert 0 < len(clip) < 20


@pytest.mark.parametrize("suffix, codec", [(".avi", "MJPG"), (".mp4", "mp4v")])
def test_a_video_with_a_header_but_no_frames_raises_video_read_error(tmp_path, suffix, codec):
    """A writer opened and released without frames leaves a non-empty file; reading it fails."""
    path = tmp_path / f"zero{suffix}"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), 25.0, (32, 32), True)
    assert writer.isOpened()
    writer.release()
    assert path.is_file() and path.stat().st_size > 0  # a header, not an empty file
    with pytest.raises(VideoReadError) as info:
        read_video(path)
    assert str(path) in str(info.value)


def test_opencv_and_ffmpeg_stderr_noise_does_not_reach_the_user(tmp_path, capfd):
    """Decoder chatter written to the C-level stderr (FFmpeg's 'moov atom not found') is hidden.

    Python-level stderr still works afterwards.
    """
    path = tmp_path / "garbage.mp4"
    path.write_bytes(b"\x00\x01garbage" * 500)
    with pytest.raises(VideoReadError):
        read_video(path)
    os.write(2, b"stderr still works\n")
    err = capfd.readouterr().err
    assert "moov" not in err
    assert "mov,mp4" not in err and "ffmpeg" not in err.lower()
    assert "stderr still works" in err


def test_quiet_stderr_nests_and_restores_the_stream(capfd):
    """Nested quiet_stderr blocks silence fd 2 until the outermost one exits."""
    with video.quiet_stderr():
        with video.quiet_stderr():
            os.write(2, b"hidden-inner\n")
        os.write(2, b"hidden-outer\n")
    os.write(2, b"visible\n")
    err = capfd.readouterr().err
    assert "hidden" not in err
    assert "visible" in err


@pytest.mark.parametrize("sampling", ["linear", "Uniform", ""])
def test_an_unknown_sampling_is_a_value_error(ramp_avi, sampling):
    """sampling must be "uniform", "consecutive" or "random"."""
    with pytest.raises(ValueError, match="sampling"):
        read_video(ramp_avi, num_frames=4, sampling=sampling)


@pytest.mark.parametrize(
    "sampling, kwargs",
    [(sampling, kwargs) for sampling in ("uniform", "consecutive", "random")
     for kwargs in ({"num_frames": 0}, {"num_frames": -2}, {"num_frames": 3, "step": 0},
                    {"num_frames": 3, "step": -1})]
    + [("consecutive", {"num_frames": 3, "start": -4})],
)
def test_bad_sampling_arguments_are_value_errors_that_do_not_blame_the_file(
    ramp_avi, sampling, kwargs
):
    """num_frames < 1, step < 1 or a negative start is a ValueError, never a VideoReadError."""
    with pytest.raises(ValueError) as info:
        read_video(ramp_avi, sampling=sampling, **kwargs)
    assert not isinstance(info.value, VideoReadError), info.value


# --------------------------------------------------------------------------- read_frames


def test_read_frames_orders_frame_2_before_frame_10(tmp_path):
    """Frame files are read in natural order (frame_2 < frame_10), not os.listdir order."""
    for i in (10, 2, 1, 12, 3, 11):
        cv2.imwrite(str(tmp_path / f"frame_{i}.png"), np.full((8, 8, 3), 20 * i, np.uint8))
    clip = read_frames(tmp_path)
    assert clip.shape == (6, 8, 8, 3)
    assert clip[:, 0, 0, 0].tolist() == [20 * i for i in (1, 2, 3, 10, 11, 12)]


def test_read_frames_returns_rgb_and_ignores_non_image_files(tmp_path):
    """Images come back as RGB uint8; files that are not images (.txt) are skipped."""
    red_bgr = np.zeros((6, 10, 3), np.uint8)
    red_bgr[..., 2] = 255
    cv2.imwrite(str(tmp_path / "img_0.png"), red_bgr)
    cv2.imwrite(str(tmp_path / "img_1.png"), red_bgr)
    (tmp_path / "notes.txt").write_text("not a frame")
    clip = read_frames(tmp_path)
    assert clip.dtype == np.uint8 and clip.shape == (2, 6, 10, 3)
    assert clip[..., 0].min() == 255 and clip[..., 2].max() == 0


def test_read_frames_can_resize(tmp_path):
    """read_frames takes the same size argument as read_video."""
    for i in range(3):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), np.full((20, 30, 3), 9, np.uint8))
    assert read_frames(tmp_path, size=10).shape == (3, 10, 10, 3)


def test_read_frames_of_a_missing_folder_raises_file_not_found(tmp_path):
    """A folder that does not exist is a FileNotFoundError naming it."""
    with pytest.raises(FileNotFoundError, match="missing_frames"):
        read_frames(tmp_path / "missing_frames")


def test_read_frames_of_an_empty_folder_raises_video_read_error(tmp_path):
    """A folder without frame images is a VideoReadError naming the folder."""
    (tmp_path / "readme.txt").write_text("no frames here")
    with pytest.raises(VideoReadError) as info:
        read_frames(tmp_path)
    assert str(tmp_path) in str(info.value)


def test_read_frames_with_a_broken_image_names_that_file(tmp_path):
    """A .png that is not an image is a VideoReadError naming the broken file."""
    cv2.imwrite(str(tmp_path / "frame_1.png"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "frame_2.png").write_bytes(b"this is not a png")
    with pytest.raises(VideoReadError, match="frame_2.png"):
        read_frames(tmp_path)


def test_read_frames_of_different_sizes_raises_video_read_error(tmp_path):
    """Frames of one video must share a size; a mismatch names the odd frame."""
    cv2.imwrite(str(tmp_path / "frame_1.png"), np.zeros((8, 8, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "frame_2.png"), np.zeros((8, 9, 3), np.uint8))
    with pytest.raises(VideoReadError, match="frame_2.png"):
        read_frames(tmp_path)


# --------------------------------------------------------------------------- write_video


def test_write_video_returns_the_path_and_creates_parent_folders(tmp_path):
    """write_video returns the written path (a Path) and creates missing folders."""
    target = tmp_path / "a" / "b" / "clip.avi"
    result = write_video(str(target), smooth_clip(3))
    assert result == target
    assert target.is_file() and target.stat().st_size > 0


def test_write_video_accepts_a_list_of_frames(tmp_path):
    """A sequence of (H, W, 3) frames works like a stacked array."""
    frames = list(smooth_clip(3))
    assert read_video(write_video(tmp_path / "list.avi", frames)).shape == (3, 48, 64, 3)


@pytest.mark.parametrize("suffix", [".gif", ".mov", ".webm", ""])
def test_write_video_rejects_an_unsupported_suffix(tmp_path, suffix):
    """Only suffixes whose codec round-trips are accepted; others raise ValueError."""
    with pytest.raises(ValueError, match="suffix"):
        write_video(tmp_path / f"clip{suffix}", smooth_clip(2))


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64, np.uint16, bool])
def test_write_video_rejects_frames_that_are_not_uint8(tmp_path, dtype):
    """Frames must be uint8 (no silent rescaling of floats)."""
    with pytest.raises(ValueError, match="uint8"):
        write_video(tmp_path / "clip.avi", smooth_clip(2).astype(dtype))


@pytest.mark.parametrize("shape", [(0, 8, 8, 3), (8, 8), (2, 8, 8, 4), (2, 8, 8, 2)])
def test_write_video_rejects_frames_of_a_bad_shape(tmp_path, shape):
    """Frames must be (T, H, W, 3) or (T, H, W) with at least one frame."""
    with pytest.raises(ValueError, match="shape"):
        write_video(tmp_path / "clip.avi", np.zeros(shape, np.uint8))


def test_a_failed_write_leaves_an_existing_file_intact(tmp_path):
    """Writing bad frames over an existing video raises and leaves the old file untouched."""
    path = write_video(tmp_path / "clip.avi", smooth_clip(4))
    before = path.read_bytes()
    with pytest.raises(ValueError):
        write_video(path, smooth_clip(4).astype(np.float32))
    assert path.read_bytes() == before
    assert read_video(path).shape == (4, 48, 64, 3)


class _BrokenWriter:
    """Stands in for cv2.VideoWriter when the codec cannot be opened."""

    def __init__(self, *args, **kwargs):
        pass

    def isOpened(self):  # noqa: N802 -- OpenCV's spelling
        return False

    def release(self):
        pass


def test_a_writer_that_cannot_open_raises_and_keeps_the_old_file(tmp_path, monkeypatch):
    """If OpenCV cannot open a writer, write_video raises OSError; the old file survives."""
    path = write_video(tmp_path / "clip.avi", smooth_clip(4))
    before = path.read_bytes()
    monkeypatch.setattr(video.cv2, "VideoWriter", _BrokenWriter)
    with pytest.raises(OSError, match="clip.avi"):
        write_video(path, smooth_clip(2))
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["clip.avi"]


def test_writing_leaves_no_temporary_files_behind(tmp_path):
    """After good and failed writes, the folder holds only the finished videos."""
    write_video(tmp_path / "a.avi", smooth_clip(2))
    write_video(tmp_path / "b.mp4", smooth_clip(2))
    write_video(tmp_path / "a.avi", smooth_clip(3))  # overwrite
    with pytest.raises(ValueError):
        write_video(tmp_path / "c.avi", smooth_clip(2).astype(float))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.avi", "b.mp4"]


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_written_videos_get_the_usual_file_permissions(tmp_path):
    """A written video is as readable as any new file (umask), not private like a temp file."""
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    path = write_video(tmp_path / "clip.avi", smooth_clip(2))
    assert path.stat().st_mode & 0o777 == plain.stat().st_mode & 0o777


def test_overwriting_replaces_the_content(tmp_path):
    """Writing to an existing path replaces the old clip with the new one."""
    path = write_video(tmp_path / "clip.avi", ramp(6))
    write_video(path, ramp(3))
    assert frame_ids(read_video(path)) == [0, 1, 2]


# --------------------------------------------------------------------------- sample_indices


def test_sample_indices_without_num_frames_is_every_index():
    """num_frames=None keeps every frame: 0 .. length - 1."""
    np.testing.assert_array_equal(sample_indices(7, None), np.arange(7))


@pytest.mark.parametrize("length, num_frames", [(10, 10), (10, 1), (10, 4), (3, 9), (1, 5)])
def test_uniform_indices_are_rounded_linspace(length, num_frames):
    """Uniform indices are np.linspace(0, length - 1, num_frames) rounded to integers."""
    got = sample_indices(length, num_frames, "uniform")
    assert got.dtype.kind == "i"
    np.testing.assert_array_equal(got, np.linspace(0, length - 1, num_frames).round())
    assert len(got) == num_frames
    assert got.min() >= 0 and got.max() <= length - 1


def test_uniform_indices_cover_both_ends_of_the_clip():
    """With at least two frames, the first and last frame are always kept."""
    got = sample_indices(100, 6)
    assert got[0] == 0 and got[-1] == 99


def test_consecutive_indices_follow_start_and_step():
    """Consecutive indices are start, start + step, ..."""
    np.testing.assert_array_equal(sample_indices(30, 4, "consecutive", 5, 3), [5, 8, 11, 14])


def test_consecutive_indices_past_the_end_repeat_the_last_frame():
    """A window longer than what is left repeats the last index (padding, no truncation)."""
    np.testing.assert_array_equal(sample_indices(6, 5, "consecutive", 3, 1), [3, 4, 5, 5, 5])


def test_consecutive_start_may_be_the_last_frame_but_not_beyond():
    """start = length - 1 is valid; start = length is a ValueError."""
    np.testing.assert_array_equal(sample_indices(5, 2, "consecutive", 4), [4, 4])
    with pytest.raises(ValueError, match="start"):
        sample_indices(5, 2, "consecutive", 5)
    with pytest.raises(ValueError, match="start"):
        sample_indices(5, 2, "consecutive", -1)


def test_random_indices_are_seeded_and_in_range():
    """Random windows repeat with the same seed and always stay inside the clip."""
    for seed in range(30):
        got = sample_indices(20, 5, "random", step=2, seed=seed)
        np.testing.assert_array_equal(got, sample_indices(20, 5, "random", step=2, seed=seed))
        assert got.min() >= 0 and got.max() <= 19
        np.testing.assert_array_equal(np.diff(got), 2)


def test_random_indices_differ_between_seeds():
    """Different seeds pick different windows (at least sometimes)."""
    starts = {int(sample_indices(50, 4, "random", seed=s)[0]) for s in range(10)}
    assert len(starts) > 1


def test_random_indices_accept_a_generator():
    """seed may be a numpy Generator; equal generator states give equal windows."""
    a = sample_indices(50, 4, "random", seed=np.random.default_rng(3))
    b = sample_indices(50, 4, "random", seed=np.random.default_rng(3))
    np.testing.assert_array_equal(a, b)


def test_random_window_longer_than_the_clip_starts_at_zero_and_pads():
    """When the window does not fit, it starts at frame 0 and repeats the last frame."""
    np.testing.assert_array_equal(sample_indices(3, 5, "random", seed=1), [0, 1, 2, 2, 2])


@pytest.mark.parametrize(
    "kwargs",
    [
        {"length": 0, "num_frames": 3},
        {"length": 5, "num_frames": 0},
        {"length": 5, "num_frames": 3, "sampling": "every"},
        {"length": 5, "num_frames": 3, "sampling": "consecutive", "step": 0},
    ],
)
def test_sample_indices_rejects_bad_arguments(kwargs):
    """Empty clips, num_frames < 1, unknown samplings and step < 1 are ValueErrors."""
    with pytest.raises(ValueError):
        sample_indices(**kwargs)
