"""Pictures for the notebooks: inline video animations, training curves, confusion matrices.

Videos are shown as small animated GIFs embedded in HTML (a few kB each, so
notebooks stay light), with a PNG frame strip as the static fallback for
exports that cannot animate.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Circle, FancyBboxPatch
from matplotlib.ticker import MaxNLocator
from PIL import Image
from sklearn.metrics import ConfusionMatrixDisplay

#: Colour-blind-safe palette (Okabe & Ito) shared by every figure of the course.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#F0E442", "#000000"]


def use_course_style() -> None:
    """Apply the course's matplotlib style: large fonts for projectors, the shared palette."""
    plt.rcParams.update(
        {
            "figure.dpi": 80,
            "font.size": 12,
            "axes.titlesize": 13,
            "axes.labelsize": 12,
            "axes.prop_cycle": plt.cycler(color=PALETTE),
            "axes.spines.top": False,
            "axes.spines.right": False,
            "image.cmap": "viridis",
        }
    )


def _as_uint8(frames: np.ndarray) -> np.ndarray:
    frames = np.asarray(frames)
    if frames.ndim == 3:
        frames = np.repeat(frames[..., None], 3, axis=-1)
    if frames.ndim != 4 or frames.shape[-1] not in (1, 3):
        raise ValueError(f"frames must be (T, H, W, 3) or (T, H, W), got shape {frames.shape}")
    if frames.shape[-1] == 1:
        frames = np.repeat(frames, 3, axis=-1)
    if frames.dtype != np.uint8:
        frames = np.clip(frames, 0, 255).astype(np.uint8)
    return frames


def gif_bytes(frames: np.ndarray, fps: float = 8, colors: int = 64) -> bytes:
    """Encode ``(T, H, W, 3)`` uint8 RGB frames as a looping animated GIF.

    All frames share one palette of ``colors`` colours, without dithering: a
    16-frame 64x64 clip stays well under 100 kB even with noisy textures.
    """
    frames = _as_uint8(frames)
    palette = Image.fromarray(np.concatenate(list(frames), axis=0)).quantize(
        colors=colors, dither=Image.Dither.NONE
    )
    images = [
        Image.fromarray(f).quantize(palette=palette, dither=Image.Dither.NONE) for f in frames
    ]
    buffer = io.BytesIO()
    images[0].save(
        buffer, format="GIF", save_all=True, append_images=images[1:],
        duration=round(1000 / fps), loop=0,
    )
    return buffer.getvalue()


def frame_strip(frames: np.ndarray, max_frames: int = 8) -> np.ndarray:
    """Return up to ``max_frames`` evenly spaced frames side by side as one image."""
    frames = _as_uint8(frames)
    keep = np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int)
    return np.concatenate(list(frames[keep]), axis=1)


class Video:
    """A clip that displays itself as an animation in Jupyter, Colab and HTML exports."""

    def __init__(self, frames: np.ndarray, fps: float = 8, width: int = 160, caption: str = ""):
        self.frames = _as_uint8(frames)
        self.fps, self.width, self.caption = fps, width, caption

    def img_tag(self) -> str:
        data = base64.b64encode(gif_bytes(self.frames, self.fps)).decode()
        return (
            f'<img src="data:image/gif;base64,{data}" width="{self.width}" '
            'style="image-rendering: pixelated; margin: 2px">'
        )

    def _repr_html_(self) -> str:
        caption = f"<br><small>{html.escape(self.caption)}</small>" if self.caption else ""
        style = "display:inline-block;text-align:center"
        return f'<div style="{style}">{self.img_tag()}{caption}</div>'

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        Image.fromarray(frame_strip(self.frames)).save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        t, h, w = self.frames.shape[:3]
        label = f" {self.caption!r}" if self.caption else ""
        return f"<Video{label}: {t} frames of {h}x{w}>"


def show_video(frames: np.ndarray, fps: float = 8, width: int = 160, caption: str = "") -> Video:
    """Return a :class:`Video` that renders ``frames`` inline as an animation.

    Make it the last expression of a cell (or pass it to ``display``).
    """
    return Video(frames, fps=fps, width=width, caption=caption)


class VideoGrid:
    """Several captioned clips side by side (HTML), with a PNG grid as fallback."""

    def __init__(self, videos: Sequence[Video]):
        self.videos = list(videos)

    def _repr_html_(self) -> str:
        cells = "".join(v._repr_html_() for v in self.videos)
        return f'<div style="display:flex;flex-wrap:wrap;gap:6px">{cells}</div>'

    def _repr_png_(self) -> bytes:
        rows = np.concatenate([frame_strip(v.frames, 4) for v in self.videos], axis=0)
        buffer = io.BytesIO()
        Image.fromarray(rows).save(buffer, format="PNG")
        return buffer.getvalue()

    def __repr__(self) -> str:
        return f"<VideoGrid: {len(self.videos)} videos>"


def video_grid(
    videos: np.ndarray, labels: Sequence[int], class_names: Sequence[str], fps: float = 8,
    width: int = 128,
) -> VideoGrid:
    """Show the first video of every class, captioned with its class name."""
    labels = np.asarray(labels)
    chosen = []
    for label, name in enumerate(class_names):
        where = np.flatnonzero(labels == label)
        if len(where):
            chosen.append(Video(videos[where[0]], fps=fps, width=width, caption=name))
    return VideoGrid(chosen)


class CaptionedVideoGrid(VideoGrid):
    """A :class:`VideoGrid` whose static picture captions every clip and shows it large.

    The HTML (animated) view is the grid's own; the PNG, which pages that cannot animate
    show (a PDF, a renderer without HTML), draws each clip as ``frames`` evenly spaced
    frames at ``scale`` times their size, its caption above and the frame numbers below,
    ``per_row`` clips side by side.
    """

    def __init__(self, videos: Sequence[Video], frames: int = 4, per_row: int = 2,
                 scale: float = 2.0):
        super().__init__(videos)
        self.frames, self.per_row, self.scale = frames, per_row, scale

    def _repr_png_(self) -> bytes:

        per_row = min(self.per_row, len(self.videos))
        rows = -(-len(self.videos) // per_row)
        height, width = self.videos[0].frames.shape[1:3]
        inches = self.scale * width / 80, self.scale * height / 80  # one frame at 80 dpi
        fig = Figure(figsize=(per_row * self.frames * inches[0] * 1.05,
                              rows * inches[1] * 1.3), dpi=80)
        grid = fig.add_gridspec(rows, per_row * self.frames, left=0, right=1, bottom=0, top=1,
                                wspace=0.05, hspace=0.3)
        for k, video in enumerate(self.videos):
            row, first = divmod(k, per_row)
            shown = np.linspace(0, len(video.frames) - 1, self.frames).round().astype(int)
            for j, t in enumerate(shown):
                ax = fig.add_subplot(grid[row, first * self.frames + j])
                ax.imshow(video.frames[t], interpolation="nearest")
                ax.set_xticks([])
                ax.set_yticks([])
                ax.set_xlabel(f"frame {t}", fontsize=10)
                if j == 0:
                    ax.set_title(video.caption, loc="left", fontsize=12)
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", bbox_inches="tight")
        return buffer.getvalue()


def captioned_grid(videos: VideoGrid | Sequence[Video], frames: int = 4,
                   per_row: int = 2) -> CaptionedVideoGrid:
    """The clips of ``videos`` (a :class:`VideoGrid`, e.g. from :func:`video_grid`, or a list
    of :class:`Video`) in a grid whose static picture is captioned and large enough to read.
    """
    clips = videos.videos if isinstance(videos, VideoGrid) else list(videos)
    return CaptionedVideoGrid(clips, frames=frames, per_row=per_row)


def plot_history(history, metrics: Sequence[str] = ("loss", "accuracy"), title: str = ""):
    """Plot training curves (train and validation) from a Keras ``History`` or its dict.

    One panel per metric, epochs on integer ticks, and one legend for the whole figure
    (the train and validation curves have the same colours in every panel).
    """
    logs = history.history if hasattr(history, "history") else dict(history)
    present = [m for m in metrics if m in logs]
    if not present:
        raise ValueError(f"none of {list(metrics)} in the history; it has {sorted(logs)}")
    fig, axes = plt.subplots(1, len(present), figsize=(5 * len(present), 3.5), squeeze=False)
    for ax, metric in zip(axes[0], present, strict=True):
        epochs = np.arange(1, len(logs[metric]) + 1)
        ax.plot(epochs, logs[metric], label="train")
        if f"val_{metric}" in logs:
            ax.plot(epochs, logs[f"val_{metric}"], label="validation")
        ax.set(xlabel="epoch", ylabel=metric)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes[0, 0].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_confusion_matrix(
    matrix: np.ndarray, class_names: Sequence[str], title: str = "", normalize: bool = True,
    ax=None,
):
    """Draw a confusion matrix (rows: true class, columns: predicted), annotated.

    scikit-learn's ``ConfusionMatrixDisplay`` draws it; rows are normalised to sum to 1
    unless ``normalize=False``, and empty cells stay blank so the errors stand out.
    """
    matrix = np.asarray(matrix)
    if matrix.shape != (len(class_names), len(class_names)):
        raise ValueError(
            f"matrix of shape {matrix.shape} does not match {len(class_names)} class names"
        )
    if normalize:
        shown = matrix / np.maximum(matrix.sum(1, keepdims=True), 1)
    else:
        shown = matrix.astype(int)
    if ax is None:
        size = 1.2 + 0.55 * len(class_names)
        _, ax = plt.subplots(figsize=(size + 1, size))
    display = ConfusionMatrixDisplay(shown, display_labels=list(class_names))
    display.plot(ax=ax, cmap="Blues", values_format=".2f" if normalize else "d",
                 xticks_rotation=45, im_kw={"vmin": 0, "vmax": 1 if normalize else None})
    for (i, j), text in np.ndenumerate(display.text_):
        if not matrix[i, j]:
            text.remove()
    ax.set(xlabel="predicted", ylabel="true", title=title)
    ax.figure.tight_layout()
    return ax


def draw_lstm_cell():
    """Draw one LSTM step: the cell state runs along the top, the gates read [h_{t-1}, x_t].

    Gates are coloured boxes, elementwise operations are circles; notebook 02 shows it
    beside the cell's equations.
    """

    fig, ax = plt.subplots(figsize=(10.5, 5.2))
    ax.set(xlim=(-0.2, 13.4), ylim=(-0.3, 6.6), aspect="equal")
    ax.axis("off")
    ax.add_patch(FancyBboxPatch((1.6, 0.35), 9.5, 5.35, boxstyle="round,pad=0.1",
                                facecolor="#F4F4F4", edgecolor="#999999"))

    def arrow(points, color="black"):
        xs, ys = zip(*points, strict=True)
        ax.plot(xs[:-1], ys[:-1], color=color, lw=1.8)
        ax.annotate("", xy=points[-1], xytext=points[-2],
                    arrowprops={"arrowstyle": "-|>", "color": color, "lw": 1.8})

    def gate(x, symbol, name, color):
        ax.add_patch(FancyBboxPatch((x - 0.45, 2.15), 0.9, 0.7, boxstyle="round,pad=0.05",
                                    facecolor=color, edgecolor="black"))
        ax.text(x, 2.5, symbol, ha="center", va="center", fontsize=15, color="white")
        ax.text(x + 0.12, 2.0, name, ha="left", va="top", fontsize=11, color=color)

    def op(x, y, symbol):
        ax.add_patch(Circle((x, y), 0.28, facecolor="white", edgecolor="black", zorder=3))
        ax.text(x, y, symbol, ha="center", va="center", fontsize=14, zorder=4)

    def label(x, y, text, size=15):
        ax.text(x, y, text, ha="left", va="center", fontsize=size)

    forget, write, candidate, show = 2.9, 4.75, 6.6, 8.45  # x of the four gates
    out = 10.2  # x of the output column
    f_col, i_col, g_col, o_col = PALETTE[3], PALETTE[0], PALETTE[2], PALETTE[1]

    # Inputs: h_{t-1} from the previous step and x_t from below meet on one bus.
    label(0.0, 0.9, "$h_{t-1}$")
    ax.text(2.2, -0.1, "$x_t$", ha="center", va="center", fontsize=15)
    ax.plot([0.8, show], [0.9, 0.9], color="black", lw=1.8)
    ax.plot([2.2, 2.2], [0.2, 0.9], color="black", lw=1.8)
    for x, symbol, name, color in [(forget, r"$\sigma$", "forget\n$f_t$", f_col),
                                   (write, r"$\sigma$", "input\n$i_t$", i_col),
                                   (candidate, "tanh", "candidate\n$g_t$", g_col),
                                   (show, r"$\sigma$", "output\n$o_t$", o_col)]:
        arrow([(x, 0.9), (x, 2.15)])
        gate(x, symbol, name, color)

    # The cell state: multiplied by f_t, then i_t * g_t is added.
    label(0.0, 5.0, "$c_{t-1}$")
    arrow([(0.8, 5.0), (forget - 0.28, 5.0)])
    op(forget, 5.0, r"$\times$")
    arrow([(forget, 2.85), (forget, 4.72)], f_col)
    arrow([(forget + 0.28, 5.0), (candidate - 0.28, 5.0)])
    op(candidate, 5.0, "+")
    op(candidate, 4.0, r"$\times$")
    arrow([(write, 2.85), (write, 4.0), (candidate - 0.28, 4.0)], i_col)
    arrow([(candidate, 2.85), (candidate, 3.72)], g_col)
    arrow([(candidate, 4.28), (candidate, 4.72)])
    arrow([(candidate + 0.28, 5.0), (12.2, 5.0)])
    label(12.3, 5.0, "$c_t$")

    # The new hidden state: o_t times tanh of the new cell state.
    ax.add_patch(FancyBboxPatch((out - 0.45, 3.85), 0.9, 0.5, boxstyle="round,pad=0.05",
                                facecolor="white", edgecolor=g_col))
    ax.text(out, 4.1, "tanh", ha="center", va="center", fontsize=12)
    arrow([(out, 5.0), (out, 4.4)])
    op(out, 2.5, r"$\times$")
    arrow([(out, 3.8), (out, 2.78)])
    arrow([(show + 0.45, 2.5), (out - 0.28, 2.5)], o_col)
    arrow([(out, 2.22), (out, 0.9), (12.2, 0.9)])
    label(12.3, 0.9, "$h_t$")
    arrow([(out + 0.28, 2.5), (11.7, 2.5), (11.7, 6.3)])
    label(11.85, 6.2, "output $h_t$", size=12)
    ax.set_title("One LSTM step: gates are boxes, elementwise operations are circles")
    return fig
