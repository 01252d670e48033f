"""Specification of vidlab.viz: inline video animations, training curves, confusion matrices."""

from __future__ import annotations

import base64
import io
import re

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402 -- after choosing the backend
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from PIL import Image  # noqa: E402

from vidlab import viz  # noqa: E402
from vidlab.datasets import motion_shapes  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts and ends without open figures."""
    plt.close("all")
    yield
    plt.close("all")


def moving_square(num_frames: int = 6, size: int = 32) -> np.ndarray:
    """A white square moving right over a dark background: every frame differs."""
    frames = np.full((num_frames, size, size, 3), 30, np.uint8)
    for t in range(num_frames):
        frames[t, 8:16, 2 + 3 * t : 10 + 3 * t] = 255
    return frames


def embedded_gif(html: str) -> bytes:
    """The GIF bytes of the first data:image/gif;base64 URI in ``html``."""
    match = re.search(r'data:image/gif;base64,([A-Za-z0-9+/=]+)"', html)
    assert match, "no embedded GIF in the HTML"
    return base64.b64decode(match[1])


def gif_frames(data: bytes) -> list[np.ndarray]:
    """Decode every frame of a GIF as RGB."""
    image = Image.open(io.BytesIO(data))
    frames = []
    for i in range(image.n_frames):
        image.seek(i)
        frames.append(np.asarray(image.convert("RGB")))
    return frames


# --------------------------------------------------------------------------- show_video


def test_show_video_embeds_an_animated_gif_in_its_html():
    """_repr_html_ carries the clip as a data:image/gif;base64 URI (works offline, in exports)."""
    html = viz.show_video(moving_square())._repr_html_()
    assert "data:image/gif;base64," in html
    assert embedded_gif(html)[:6] in (b"GIF89a", b"GIF87a")


def test_the_gif_decodes_to_one_frame_per_video_frame_of_the_same_size():
    """The embedded GIF has T frames of H x W that look like the input frames."""
    clip = moving_square(7, 32)
    frames = gif_frames(embedded_gif(viz.show_video(clip)._repr_html_()))
    assert len(frames) == 7
    assert all(f.shape == (32, 32, 3) for f in frames)
    np.testing.assert_allclose(np.stack(frames), clip, atol=8)


def test_the_gif_loops_at_the_requested_frame_rate():
    """fps sets each GIF frame's duration; the animation loops forever."""
    image = Image.open(io.BytesIO(viz.gif_bytes(moving_square(), fps=10)))
    assert image.info["duration"] == 100
    assert image.info.get("loop") == 0


def test_show_video_has_a_png_fallback():
    """_repr_png_ is a PNG frame strip, for exports that cannot animate."""
    clip = moving_square(6, 32)
    data = viz.show_video(clip)._repr_png_()
    assert data.startswith(PNG_SIGNATURE)
    strip = Image.open(io.BytesIO(data))
    assert strip.size == (6 * 32, 32)


def test_the_frame_strip_shows_at_most_eight_evenly_spaced_frames():
    """A long clip's strip keeps 8 frames, including the first and the last."""
    clip = np.stack([np.full((4, 5, 3), i, np.uint8) for i in range(20)])
    strip = viz.frame_strip(clip)
    assert strip.shape == (4, 8 * 5, 3)
    assert strip[0, 0, 0] == 0 and strip[0, -1, 0] == 19


def test_the_html_is_deterministic_for_the_same_frames():
    """Re-running a cell gives byte-identical HTML (so stored notebook outputs do not churn)."""
    clip = moving_square()
    assert viz.show_video(clip)._repr_html_() == viz.show_video(clip.copy())._repr_html_()


def test_a_quick_profile_clip_stays_small_in_the_notebook():
    """A real 16-frame 64x64 MotionShapes clip (noisy texture) embeds in under 100 kB of HTML."""
    videos, _, _ = motion_shapes.generate(1, num_frames=16, size=64)
    for clip in videos:
        assert len(viz.show_video(clip)._repr_html_().encode()) < 100_000


def test_the_gif_keeps_the_colours_of_a_real_clip_close():
    """Palette reduction keeps a MotionShapes clip recognisable (mean error of a few levels)."""
    videos, _, _ = motion_shapes.generate(1, num_frames=8, size=64)
    frames = np.stack(gif_frames(viz.gif_bytes(videos[0])))
    assert frames.shape == videos[0].shape
    assert np.abs(frames.astype(int) - videos[0]).mean() < 5


def test_show_video_accepts_grayscale_clips():
    """(T, H, W) grayscale frames are shown as grey RGB."""
    gray = moving_square()[..., 0]
    video = viz.show_video(gray)
    assert video.frames.shape == (*gray.shape, 3)
    assert len(gif_frames(embedded_gif(video._repr_html_()))) == len(gray)
    assert video._repr_png_().startswith(PNG_SIGNATURE)


def test_show_video_accepts_single_channel_and_float_clips():
    """(T, H, W, 1) and float frames in [0, 255] are accepted and shown as uint8 RGB."""
    assert viz.show_video(moving_square()[..., :1]).frames.shape[-1] == 3
    floats = viz.show_video(moving_square().astype(np.float32) * 1.5)
    assert floats.frames.dtype == np.uint8
    assert floats.frames.max() == 255


@pytest.mark.parametrize("shape", [(32, 32), (2, 3, 8, 8, 3), (4, 8, 8, 2), (4, 8, 8, 4)])
def test_show_video_rejects_frames_of_a_bad_shape(shape):
    """Anything but (T, H, W, 3), (T, H, W, 1) or (T, H, W) is a ValueError."""
    with pytest.raises(ValueError, match="shape"):
        viz.show_video(np.zeros(shape, np.uint8))


def test_show_video_caption_and_width_appear_in_the_html():
    """The caption is shown (HTML-escaped) under the animation, at the requested width."""
    video = viz.show_video(moving_square(), width=200, caption="Slide <left>")
    html = video._repr_html_()
    assert 'width="200"' in html
    assert "Slide &lt;left&gt;" in html and "<left>" not in html
    assert "Slide <left>" in repr(video) and "6 frames of 32x32" in repr(video)


# --------------------------------------------------------------------------- video_grid


@pytest.fixture(scope="module")
def dataset():
    """Two MotionShapes clips per class, 4 frames of 32x32."""
    return motion_shapes.generate(2, num_frames=4, size=32)


def test_video_grid_shows_the_first_clip_of_every_class_with_its_name(dataset):
    """One captioned animation per class, in class order, each the class's first clip."""
    videos, labels, names = dataset
    grid = viz.video_grid(videos, labels, names)
    assert [v.caption for v in grid.videos] == names
    for label, video in enumerate(grid.videos):
        first = np.flatnonzero(labels == label)[0]
        np.testing.assert_array_equal(video.frames, videos[first])
    html = grid._repr_html_()
    assert html.count("data:image/gif;base64,") == len(names)
    assert all(name in html for name in names)
    assert grid._repr_png_().startswith(PNG_SIGNATURE)
    assert repr(grid) == f"<VideoGrid: {len(names)} videos>"


def test_video_grid_skips_classes_without_clips(dataset):
    """A class with no clip in ``labels`` is left out rather than failing."""
    videos, labels, names = dataset
    keep = labels != 3
    grid = viz.video_grid(videos[keep], labels[keep], names)
    assert [v.caption for v in grid.videos] == [n for i, n in enumerate(names) if i != 3]


def test_a_captioned_grid_animates_as_before_and_its_picture_is_large_enough_to_read(dataset):
    """Same HTML and text as the grid it wraps; a PNG of 4 frames per clip at twice their
    size, 2 clips a row, with room for the captions, and no figure left open in pyplot."""
    videos, labels, names = dataset
    grid = viz.video_grid(videos, labels, names)
    captioned = viz.captioned_grid(grid)
    assert captioned._repr_html_() == grid._repr_html_()
    assert repr(captioned) == repr(grid)
    width, height = Image.open(io.BytesIO(captioned._repr_png_())).size
    assert width >= 2 * 4 * 2 * 32  # 2 clips a row, 4 frames each, frames of 32 px doubled
    assert height >= len(names) // 2 * 2 * 32
    assert plt.get_fignums() == []
    pair = viz.captioned_grid([viz.show_video(videos[0], caption="a"),
                               viz.show_video(videos[0][::-1], caption="reversed")])
    assert [v.caption for v in pair.videos] == ["a", "reversed"]
    assert pair._repr_png_().startswith(PNG_SIGNATURE)


# --------------------------------------------------------------------------- plot_history


HISTORY = {
    "loss": [1.2, 0.8, 0.5],
    "val_loss": [1.3, 0.9, 0.7],
    "accuracy": [0.4, 0.6, 0.8],
    "val_accuracy": [0.35, 0.55, 0.7],
}


def test_plot_history_draws_train_and_validation_curves_from_a_dict():
    """One panel per metric, each with a train and a validation curve over epochs 1..N."""
    fig = viz.plot_history(HISTORY, title="run 1")
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("loss", "accuracy"), strict=True):
        assert ax.get_ylabel() == metric
        labels = [line.get_label() for line in ax.get_lines()]
        assert labels == ["train", "validation"]
        np.testing.assert_array_equal(ax.get_lines()[0].get_xdata(), [1, 2, 3])
        np.testing.assert_array_equal(ax.get_lines()[0].get_ydata(), HISTORY[metric])
    assert fig.get_suptitle() == "run 1"


def test_plot_history_has_one_legend_and_whole_epochs_on_its_axis():
    fig = viz.plot_history(HISTORY)  # three epochs: matplotlib alone would tick every half
    fig.canvas.draw()

    assert sum(ax.get_legend() is not None for ax in fig.axes) == 1
    for ax in fig.axes:
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks and all(float(t).is_integer() for t in ticks)


def test_plot_history_accepts_a_keras_history_object():
    """Anything with a .history dict (keras.callbacks.History) works like the dict."""

    class History:
        history = {"loss": [1.0, 0.5]}

    fig = viz.plot_history(History())
    assert len(fig.axes) == 1
    assert [line.get_label() for line in fig.axes[0].get_lines()] == ["train"]


def test_plot_history_rejects_metrics_the_history_does_not_have():
    """Asking only for unknown metrics is a ValueError naming them and what the history has."""
    with pytest.raises(ValueError) as info:
        viz.plot_history(HISTORY, metrics=("f1_score",))
    message = str(info.value)
    assert "f1_score" in message
    assert "accuracy" in message and "loss" in message


# --------------------------------------------------------------------------- confusion matrix


def test_plot_confusion_matrix_draws_row_normalised_counts():
    """Rows are true classes, normalised to sum to 1; the cells are annotated."""
    matrix = np.array([[8, 2, 0], [1, 9, 0], [0, 0, 0]])
    ax = viz.plot_confusion_matrix(matrix, ["a", "b", "c"], title="cm")
    image = ax.get_images()[0].get_array()
    np.testing.assert_allclose(image[0], [0.8, 0.2, 0.0])
    np.testing.assert_allclose(image[2], [0, 0, 0])  # an empty row does not divide by zero
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["0.10", "0.20", "0.80", "0.90"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b", "c"]
    assert ax.get_title() == "cm"


def test_plot_confusion_matrix_can_show_raw_counts_on_a_given_axis():
    """normalize=False annotates counts; ax= draws into an existing figure."""
    fig, ax = plt.subplots()
    returned = viz.plot_confusion_matrix(np.array([[3, 1], [0, 4]]), ["x", "y"],
                                         normalize=False, ax=ax)
    assert returned is ax
    assert sorted(t.get_text() for t in ax.texts) == ["1", "3", "4"]


@pytest.mark.parametrize("shape, names", [((3, 3), ["a", "b"]), ((2, 3), ["a", "b"]),
                                          ((2, 2), ["a", "b", "c"])])
def test_plot_confusion_matrix_rejects_a_size_mismatch(shape, names):
    """The matrix must be square with one row per class name."""
    with pytest.raises(ValueError, match="class names"):
        viz.plot_confusion_matrix(np.ones(shape), names)


def test_use_course_style_sets_the_shared_palette():
    """The course style uses the colour-blind-safe palette and large fonts."""
    with matplotlib.rc_context():
        viz.use_course_style()
        colors = [c["color"] for c in plt.rcParams["axes.prop_cycle"]]
        assert colors == viz.PALETTE
        assert plt.rcParams["font.size"] >= 12
