"""A student's own video: any common container, codec, orientation, frame rate and length.

The videos are made here with the FFmpeg binary of the ``imageio-ffmpeg`` package (H.264,
HEVC and VP9 encoders, which a pip OpenCV cannot write). Every frame shows its own index
as a grid of black and white blocks, big enough to survive lossy compression, so a test
can tell which frames a reader returned.
"""

import subprocess
import tracemalloc
from pathlib import Path

import imageio_ffmpeg
import numpy as np
import pytest

from vidlab import video

WIDTH, HEIGHT = 160, 96
BITS = (2, 4)  # rows and columns of blocks: frame indices up to 255


def frame_showing(index: int) -> np.ndarray:
    bits = np.array([(index >> b) & 1 for b in range(BITS[0] * BITS[1])], dtype=np.uint8)
    blocks = bits.reshape(BITS) * 255
    image = np.kron(blocks, np.ones((HEIGHT // BITS[0], WIDTH // BITS[1]), dtype=np.uint8))
    return np.repeat(image[..., np.newaxis], 3, axis=-1)


def index_shown(frame: np.ndarray) -> int:
    rows, cols = BITS
    h, w = frame.shape[0] // rows, frame.shape[1] // cols
    means = frame.mean(axis=-1)[:h * rows, :w * cols].reshape(rows, h, cols, w).mean(axis=(1, 3))
    return int(sum(1 << b for b, on in enumerate((means > 127).ravel()) if on))


def encode(path: Path, count: int, fps: float, codec: str, *extra: str) -> Path:
    writer = imageio_ffmpeg.write_frames(
        str(path), (WIDTH, HEIGHT), fps=fps, codec=codec, pix_fmt_out="yuv420p",
        macro_block_size=16, output_params=list(extra), ffmpeg_log_level="error")
    writer.send(None)
    for index in range(count):
        writer.send(frame_showing(index))
    writer.close()
    return path


def rotated(source: Path, dest: Path, degrees: int) -> Path:
    """A stream copy of ``source`` whose container says: display rotated (as phones do)."""
    subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-y",
                    "-display_rotation", str(degrees), "-i", str(source), "-c", "copy", str(dest)],
                   check=True)
    return dest


FORMATS = {
    "h264.mp4": ("libx264",),
    "h264.mov": ("libx264",),
    "hevc.mp4": ("libx265", "-tag:v", "hvc1", "-x265-params", "log-level=error"),
    "vp9.webm": ("libvpx-vp9", "-b:v", "400k"),
    "mjpeg.avi": ("mjpeg", "-q:v", "3"),
}


@pytest.mark.parametrize("name", FORMATS)
def test_every_common_format_streams_every_frame_in_order(tmp_path, name):
    path = encode(tmp_path / name, 40, 30, *FORMATS[name])

    shown = [index_shown(frame) for frame in video.iter_frames(path)]

    assert shown == list(range(40))


@pytest.mark.parametrize("name", FORMATS)
def test_read_uniform_spreads_its_frames_over_the_whole_video(tmp_path, name):
    path = encode(tmp_path / name, 40, 30, *FORMATS[name])

    frames = video.read_uniform(path, 5, size=64)

    assert frames.shape == (5, 64, 64, 3)
    assert frames.dtype == np.uint8
    assert [index_shown(f) for f in video.read_uniform(path, 5)] == [0, 10, 20, 29, 39]


@pytest.mark.parametrize("fps", [24, 30000 / 1001, 60])
def test_frames_are_kept_by_their_time_at_the_rate_asked_for(tmp_path, fps):
    path = encode(tmp_path / "clip.mp4", 120, fps, "libx264")
    seconds = 120 / fps

    shown = [index_shown(frame) for frame in video.iter_frames(path, fps=12)]

    assert len(shown) == pytest.approx(seconds * 12, abs=1)
    assert shown[0] == 0
    steps = np.diff(shown)
    assert set(steps) <= {int(fps // 12), int(fps // 12) + 1}  # evenly spaced in time


def test_a_rate_above_the_videos_keeps_every_frame(tmp_path):
    path = encode(tmp_path / "clip.webm", 20, 24, "libvpx-vp9")

    assert len(list(video.iter_frames(path, fps=60))) == 20


@pytest.mark.parametrize("degrees", [90, -90])
def test_a_portrait_phone_video_reads_upright(tmp_path, degrees):
    landscape = encode(tmp_path / "landscape.mp4", 8, 30, "libx264")
    portrait = rotated(landscape, tmp_path / "portrait.mov", degrees)

    info = video.video_info(portrait)
    frames = list(video.iter_frames(portrait))

    assert (info.width, info.height) == (HEIGHT, WIDTH)
    assert "portrait" in str(info)
    assert frames[0].shape == (WIDTH, HEIGHT, 3)
    # The container asks players to turn the picture counter-clockwise by `degrees`; undo it.
    upright = np.rot90(frames[5], k=-1 if degrees == 90 else 1)
    assert index_shown(upright) == 5


def test_a_long_video_is_sampled_in_bounded_memory(tmp_path):
    path = video.write_video(tmp_path / "long.avi",
                             np.stack([frame_showing(i % 256) for i in range(1500)]), fps=30)
    frame_bytes = HEIGHT * WIDTH * 3

    tracemalloc.start()
    frames = video.read_uniform(path, 8)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    assert peak < (4 * 8 + 8) * frame_bytes  # the whole video would be 1500 frames
    assert [index_shown(f) for f in frames] == [round(i) % 256 for i in np.linspace(0, 1499, 8)]


def test_a_file_that_is_not_a_video_names_itself_and_says_how_to_re_encode(tmp_path):
    path = tmp_path / "holiday.mp4"
    path.write_text("these are not video bytes")

    with pytest.raises(video.VideoReadError) as error:
        list(video.iter_frames(path))

    message = str(error.value)
    assert str(path) in message
    assert "ffmpeg -i holiday.mp4 -c:v libx264" in message


def test_a_truncated_phone_video_gives_the_same_clear_error(tmp_path):
    whole = encode(tmp_path / "whole.mp4", 40, 30, "libx264").read_bytes()
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole[: len(whole) // 2])  # an mp4 keeps its index at the end

    with pytest.raises(video.VideoReadError, match="cut.mp4"):
        video.read_uniform(cut, 4)


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing.mp4"):
        video.video_info(tmp_path / "nothing.mp4")


@pytest.mark.parametrize("size", [None, 48, (40, 72)])
def test_the_streaming_readers_return_read_videos_pixels_in_rgb(tmp_path, size):
    """iter_frames and read_uniform skip work on frames they drop, never on the pixels they
    keep: on a lossless colour video they return exactly what read_video does, red as red."""
    rng = np.random.default_rng(0)
    clip = rng.integers(0, 256, (12, 64, 96, 3), dtype=np.uint8)
    clip[:, :8] = (255, 0, 0)  # a red band along the top: channel 0 of what comes back
    path = video.write_video(tmp_path / "colour.avi", clip, lossless=True)

    every = video.read_video(path, size=size)
    spread = video.read_video(path, 4, size=size)

    np.testing.assert_array_equal(np.stack(list(video.iter_frames(path, size))), every)
    np.testing.assert_array_equal(video.read_uniform(path, 4, size), spread)
    red, _, blue = every[0, 0, every.shape[2] // 2]
    assert red > 200 and blue < 50
