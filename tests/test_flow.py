"""Specification of vidlab.flow (dense optical flow) and of MotionShapes' true flow."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from vidlab import flow
from vidlab.datasets import motion_shapes
from vidlab.datasets.motion_shapes import render_clip, render_clip_with_poses, true_flow
from vidlab.flow import (
    ContribMissingError,
    color_wheel,
    compute_flow,
    endpoint_error,
    flow_to_color,
    normalize_flow,
    resize_flow,
    stack_flow,
)

YELLOW = np.array([250.0, 240.0, 40.0])
SIZE = 64


@pytest.fixture(scope="module")
def background():
    """One group's dark textured background, SIZE x SIZE."""
    return motion_shapes.group_background(3, SIZE)[0]


def shapes_clip(background, motion, shape="Square", k=1, num_frames=8, noise=3.0):
    """A MotionShapes clip and its per-frame poses."""
    rng = np.random.default_rng(k)
    return render_clip_with_poses(shape, motion, background, YELLOW, num_frames, rng, noise)


def texture(size=96, seed=0):
    """A smooth random grey texture as an (H, W, 3) uint8 RGB image."""
    coarse = np.random.default_rng(seed).random((12, 12))
    smooth = cv2.resize(coarse, (size, size), interpolation=cv2.INTER_CUBIC)
    gray = np.clip(smooth * 200 + 30, 0, 255).astype(np.uint8)
    return np.repeat(gray[..., None], 3, axis=-1)


# --------------------------------------------------------------------------- compute_flow


@pytest.mark.parametrize("method", ["dis", "farneback"])
def test_compute_flow_gives_one_float32_xy_field_per_pair_of_frames(method):
    """(T, H, W, 3) uint8 frames give (T-1, H, W, 2) float32 fields, non-square too."""
    frames = np.stack([texture(48, seed)[:40] for seed in range(4)])
    out = compute_flow(frames, method)
    assert out.shape == (3, 40, 48, 2)
    assert out.dtype == np.float32


def test_compute_flow_resizes_first_when_given_a_size():
    """size=(H, W) or an int (short side, centre crop) sets the fields' size."""
    frames = np.stack([texture(48, seed)[:40] for seed in range(3)])
    assert compute_flow(frames, size=(24, 32)).shape == (2, 24, 32, 2)
    assert compute_flow(frames, size=20).shape == (2, 20, 20, 2)


@pytest.mark.parametrize("method", ["dis", "farneback"])
@pytest.mark.parametrize("shift", [(2, 0), (-1, 3)])
def test_a_shifted_texture_has_the_shift_as_its_flow(method, shift):
    """Content rolled by (dx, dy) pixels has flow (dx, dy) in the image interior."""
    dx, dy = shift
    first = texture()
    second = np.roll(first, shift=(dy, dx), axis=(0, 1))
    field = compute_flow(np.stack([first, second]), method)[0]
    interior = field[16:-16, 16:-16].reshape(-1, 2).mean(axis=0)
    np.testing.assert_allclose(interior, [dx, dy], atol=0.3)


@pytest.mark.parametrize("motion, sign", [("SlideRight", +1), ("SlideLeft", -1)])
def test_flow_on_a_sliding_sprite_points_the_way_it_slides(background, motion, sign):
    """On the sprite's pixels the mean x displacement is > 1 px to the right / left."""
    clip, poses = shapes_clip(background, motion)
    fields = compute_flow(clip)
    for t in range(len(fields)):
        _, mask = true_flow(poses, t, SIZE, "Square")
        mean = fields[t][mask].mean(axis=0)
        assert sign * mean[0] > 1.0
        assert abs(mean[1]) < 0.5


@pytest.mark.parametrize("motion, shape", [("SlideLeft", "Triangle"), ("SlideDown", "Cross"),
                                           ("ZoomIn", "Square"), ("RotateClockwise", "Star")])
def test_dis_flow_is_within_a_pixel_of_the_true_flow(background, motion, shape):
    """Mean end-point error of DIS against the exact flow on the sprite: measured 0.14-0.52 px
    on 64x64 clips of every motion; the bound leaves a 50% margin."""
    clip, poses = shapes_clip(background, motion, shape, num_frames=16)
    fields = compute_flow(clip, "dis")
    errors = [endpoint_error(fields[t], *true_flow(poses, t, SIZE, shape))
              for t in range(len(fields))]
    assert np.mean(errors) < 0.8
    assert max(errors) < 1.5


def test_compute_flow_creates_one_flow_object_per_clip(monkeypatch):
    """The DIS object is made once per clip and reused for every pair of frames."""
    made = []
    real = cv2.DISOpticalFlow

    class Counting:
        @staticmethod
        def create(preset):
            made.append(preset)
            return real.create(preset)

    monkeypatch.setattr(cv2, "DISOpticalFlow", Counting)
    compute_flow(np.stack([texture(32, seed) for seed in range(5)]), "dis")
    assert made == [flow.DIS_PRESET]


@pytest.mark.parametrize(
    "frames, message",
    [
        (np.zeros((1, 8, 8, 3), np.uint8), "at least 2 frames"),
        (np.zeros((3, 8, 8), np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((3, 8, 8, 1), np.uint8), r"\(T, H, W, 3\)"),
        (np.zeros((3, 8, 8, 3), np.float32), "uint8"),
    ],
)
def test_bad_frames_raise_value_error(frames, message):
    """Fewer than 2 frames, a wrong shape or a non-uint8 dtype are refused clearly."""
    with pytest.raises(ValueError, match=message):
        compute_flow(frames)


def test_an_unknown_method_raises_value_error_listing_the_methods():
    """The message names every available method."""
    with pytest.raises(ValueError) as error:
        compute_flow(np.zeros((2, 8, 8, 3), np.uint8), method="horn")
    for method in flow.METHODS:
        assert method in str(error.value)


def test_tvl1_without_opencv_contrib_says_which_wheel_to_install(monkeypatch):
    """Without cv2.optflow, tvl1 raises an ImportError naming the contrib wheel and saying it
    must replace the installed OpenCV wheel."""
    monkeypatch.delattr(cv2, "optflow", raising=False)
    with pytest.raises(ContribMissingError) as error:
        compute_flow(np.zeros((2, 8, 8, 3), np.uint8), method="tvl1")
    assert isinstance(error.value, ImportError)
    message = str(error.value)
    assert "opencv-contrib-python" in message
    assert "replace" in message and "not sit beside" in message


@pytest.mark.skipif(not hasattr(cv2, "optflow"), reason="needs opencv-contrib-python")
def test_tvl1_computes_flow_when_opencv_contrib_is_installed():
    """With the contrib wheel, tvl1 finds a shift like the other methods."""
    first = texture()
    field = compute_flow(np.stack([first, np.roll(first, 2, axis=1)]), "tvl1")[0]
    np.testing.assert_allclose(field[16:-16, 16:-16].reshape(-1, 2).mean(0), [2, 0], atol=0.3)


# --------------------------------------------------------------------------- iter_flow


def test_iter_flow_streams_the_fields_compute_flow_gives():
    """A generator of frames gives, field by field, exactly compute_flow's fields."""
    frames = np.stack([np.roll(texture(48), 2 * k, axis=1) for k in range(5)])
    fields = list(flow.iter_flow(iter(frames), "dis"))
    assert len(fields) == 4
    assert all(f.shape == (48, 48, 2) and f.dtype == np.float32 for f in fields)
    np.testing.assert_array_equal(np.stack(fields), compute_flow(frames, "dis"))


def test_iter_flow_holds_two_frames_not_the_video():
    """Each field is computed as soon as its second frame arrives, from that frame alone."""
    read = []

    def frames():
        for k in range(100):
            read.append(k)
            yield np.roll(texture(32), k, axis=1)

    stream = flow.iter_flow(frames(), "dis")
    assert read == []  # nothing is decoded before the first field is asked for
    next(stream)
    assert read == [0, 1]
    next(stream)
    assert read == [0, 1, 2]


def test_iter_flow_refuses_tvl1_without_contrib_before_reading_a_frame(monkeypatch):
    """The missing contrib wheel is reported at the call, so a caller can fall back to DIS."""
    monkeypatch.delattr(cv2, "optflow", raising=False)

    def frames():
        raise AssertionError("no frame may be read")
        yield

    with pytest.raises(ContribMissingError):
        flow.iter_flow(frames(), "tvl1")
    with pytest.raises(ValueError, match="dis"):
        flow.iter_flow(frames(), "horn")


@pytest.mark.parametrize(
    "frames, message",
    [
        ([], "at least 2 frames, got 0"),
        ([np.zeros((8, 8, 3), np.uint8)], "at least 2 frames, got 1"),
        ([np.zeros((8, 8, 3), np.uint8), np.zeros((8, 8), np.uint8)], r"\(H, W, 3\) uint8"),
        ([np.zeros((8, 8, 3), np.float32)] * 2, "uint8"),
    ],
)
def test_iter_flow_refuses_short_streams_and_bad_frames(frames, message):
    """A stream of 0 or 1 frames, or a frame that is not (H, W, 3) uint8, is refused clearly."""
    with pytest.raises(ValueError, match=message):
        list(flow.iter_flow(frames, "dis"))


# --------------------------------------------------------------------------- transforms


def test_resize_flow_scales_x_by_the_width_ratio_and_y_by_the_height_ratio():
    """Halving the width halves x displacements; doubling the height doubles y ones."""
    field = np.ones((10, 20, 2), np.float32) * [3.0, 1.5]
    out = resize_flow(field, (20, 10))
    assert out.shape == (20, 10, 2) and out.dtype == np.float32
    np.testing.assert_allclose(out, np.broadcast_to([1.5, 3.0], out.shape))


def test_resize_flow_handles_clips_and_short_side_sizes():
    """(T, H, W, 2) fields resize too; an int scales both axes by the short side's ratio."""
    fields = np.ones((3, 10, 20, 2), np.float32)
    out = resize_flow(fields, 5)
    assert out.shape == (3, 5, 5, 2)
    np.testing.assert_allclose(out, 0.5)


def test_resize_flow_matches_flow_computed_at_the_smaller_size():
    """A shift measured at 96 px and resized to 48 px is the shift measured at 48 px."""
    first = texture()
    frames = np.stack([first, np.roll(first, 4, axis=1)])
    resized = resize_flow(compute_flow(frames), (48, 48))[0]
    direct = compute_flow(frames, size=(48, 48))[0]
    np.testing.assert_allclose(resized[8:-8, 8:-8].mean((0, 1)), [2, 0], atol=0.2)
    np.testing.assert_allclose(direct[8:-8, 8:-8].mean((0, 1)), [2, 0], atol=0.2)


def test_normalize_flow_clips_to_the_bound_and_scales_to_unit_range():
    """Values are clipped to [-bound, bound] and divided by bound."""
    field = np.array([[[40.0, -10.0], [0.0, -25.0]]])
    out = normalize_flow(field, bound=20.0)
    np.testing.assert_allclose(out, [[[1.0, -0.5], [0.0, -1.0]]])
    assert out.dtype == np.float32
    assert np.abs(normalize_flow(np.random.default_rng(0).normal(0, 50, (4, 4, 2)))).max() <= 1
    with pytest.raises(ValueError, match="bound"):
        normalize_flow(field, bound=0)


def test_stack_flow_interleaves_x_and_y_frame_by_frame():
    """Channels are [x_s, y_s, x_s+1, y_s+1, ...] from field `start`."""
    fields = np.zeros((4, 2, 3, 2), np.float32)
    for t in range(4):
        fields[t, ..., 0] = 10 * t + 1  # x of field t
        fields[t, ..., 1] = 10 * t + 2  # y of field t
    out = stack_flow(fields, 2, start=1)
    assert out.shape == (2, 3, 4)
    np.testing.assert_array_equal(out[1, 2], [11, 12, 21, 22])
    np.testing.assert_array_equal(stack_flow(fields, 4)[0, 0], [1, 2, 11, 12, 21, 22, 31, 32])


@pytest.mark.parametrize(
    "shape, length, start, message",
    [
        ((4, 2, 2, 2), 3, 2, "needs 5 flow fields; this clip has 4"),
        ((4, 2, 2, 2), 5, 0, "needs 5 flow fields"),
        ((4, 2, 2, 2), 0, 0, "length >= 1"),
        ((4, 2, 2, 2), 1, -1, "start >= 0"),
        ((2, 2, 2), 1, 0, r"\(T, H, W, 2\)"),
        ((1, 1, 4, 2, 2, 2), 1, 0, r"\(N, T, H, W, 2\)"),
    ],
)
def test_stack_flow_refuses_windows_the_clip_cannot_fill(shape, length, start, message):
    """Too few fields, a bad length or start, or a wrong shape raise ValueError."""
    with pytest.raises(ValueError, match=message):
        stack_flow(np.zeros(shape), length, start)


def test_stack_flow_stacks_each_clip_of_a_batch_alike():
    """(N, T, H, W, 2) gives one (H, W, 2L) stack per clip, the same as clip by clip."""
    flows = np.random.default_rng(0).normal(size=(3, 15, 5, 6, 2)).astype(np.float16)
    stacked = stack_flow(flows, 8, start=3)
    assert stacked.shape == (3, 5, 6, 16) and stacked.dtype == np.float16
    for clip, stack in zip(flows, stacked, strict=True):
        np.testing.assert_array_equal(stack, stack_flow(clip, 8, start=3))
    with pytest.raises(ValueError, match="needs 16 flow fields"):
        stack_flow(flows, 8, start=8)


# --------------------------------------------------------------------------- test-time mirrors


def test_mirror_flow_flips_the_image_and_negates_one_component():
    stacks = np.zeros((1, 3, 4, 4), np.float32)
    stacks[0, 1, 0] = [1.0, 2.0, 3.0, 4.0]  # (x0, y0, x1, y1) at row 1, column 0
    h = flow.mirror_flow(stacks, "horizontal")
    np.testing.assert_array_equal(h[0, 1, 3], [-1.0, 2.0, -3.0, 4.0])
    v = flow.mirror_flow(stacks, "vertical")
    np.testing.assert_array_equal(v[0, 1, 0], [1.0, -2.0, 3.0, -4.0])
    np.testing.assert_array_equal(flow.mirror_flow(h, "horizontal"), stacks)
    with pytest.raises(ValueError, match="mirror"):
        flow.mirror_flow(stacks, "diagonal")
    with pytest.raises(ValueError, match="2L"):
        flow.mirror_flow(stacks[..., :3])


class DirectionModel:
    """A fake temporal stream: class 0 if the mean x flow is negative (left), else class 1."""

    def predict(self, x, batch_size=None, verbose=0):
        right = (x[..., 0::2].mean(axis=(1, 2, 3)) > 0).astype(float)
        return np.stack([1 - right, right, np.zeros_like(right)], axis=1)


def left_and_right_stacks():
    stacks = np.zeros((2, 2, 2, 2), np.float32)
    stacks[0, ..., 0], stacks[1, ..., 0] = -1.0, 1.0  # clip 0 moves left, clip 1 right
    return stacks


def test_mirror_average_reads_mirrored_scores_back_in_the_original_classes():
    stacks = left_and_right_stacks()
    swap = [1, 0, 2]  # mirrored left-right, "left" becomes "right"
    out = flow.mirror_average(DirectionModel(), stacks, {"horizontal": swap})
    np.testing.assert_array_equal(out, [[1, 0, 0], [0, 1, 0]])
    # ignoring the label change would average a clip with its opposite
    wrong = flow.mirror_average(DirectionModel(), stacks, {"horizontal": [0, 1, 2]})
    np.testing.assert_array_equal(wrong, [[0.5, 0.5, 0], [0.5, 0.5, 0]])
    both = flow.mirror_average(DirectionModel(), stacks, {"horizontal": swap,
                                                          "vertical": [0, 1, 2]})
    np.testing.assert_array_equal(both, out)


def test_mirror_average_can_return_every_view():
    stacks = left_and_right_stacks()
    mean, views = flow.mirror_average(DirectionModel(), stacks, {"horizontal": [1, 0, 2]},
                                      batch_size=3, return_views=True)
    assert views.shape == (2, 2, 3)
    np.testing.assert_array_equal(views[0], DirectionModel().predict(stacks))
    np.testing.assert_array_equal(mean, views.mean(axis=0))


# --------------------------------------------------------------------------- colour


def hue(rgb: np.ndarray) -> int:
    """OpenCV hue (0-179) of one RGB pixel."""
    return int(cv2.cvtColor(rgb.reshape(1, 1, 3), cv2.COLOR_RGB2HSV)[0, 0, 0])


def test_zero_flow_is_black():
    """No motion, no brightness: whatever max_magnitude says."""
    assert not flow_to_color(np.zeros((4, 5, 2))).any()
    assert not flow_to_color(np.zeros((4, 5, 2)), max_magnitude=3.0).any()


def test_opposite_directions_get_different_hues_and_magnitude_sets_brightness():
    """+x and -x differ in hue; a field's largest magnitude is drawn at full brightness."""
    field = np.zeros((1, 3, 2), np.float32)
    field[0, 0] = [2.0, 0.0]
    field[0, 1] = [-2.0, 0.0]
    field[0, 2] = [-1.0, 0.0]
    image = flow_to_color(field)
    assert hue(image[0, 0]) != hue(image[0, 1])
    assert hue(image[0, 1]) == hue(image[0, 2])
    assert image[0, 0].max() == image[0, 1].max() == 255
    assert image[0, 2].max() < image[0, 1].max()


def test_max_magnitude_fixes_the_brightness_scale():
    """A magnitude at max_magnitude or above is full brightness, half of it about half."""
    field = np.array([[[0.0, 4.0], [0.0, 2.0], [0.0, 8.0]]])
    values = flow_to_color(field, max_magnitude=4.0).max(axis=-1)[0]
    assert values[0] == values[2] == 255
    assert abs(int(values[1]) - 128) <= 1


def test_flow_to_color_keeps_the_frame_axes_and_returns_uint8_rgb():
    """(H, W, 2) -> (H, W, 3) and (T, H, W, 2) -> (T, H, W, 3), uint8."""
    rng = np.random.default_rng(0)
    assert flow_to_color(rng.normal(size=(6, 7, 2))).shape == (6, 7, 3)
    clip = flow_to_color(rng.normal(size=(3, 6, 7, 2)))
    assert clip.shape == (3, 6, 7, 3) and clip.dtype == np.uint8
    with pytest.raises(ValueError, match="flow must have shape"):
        flow_to_color(np.zeros((6, 7, 3)))


def test_color_wheel_is_a_disc_coloured_like_the_displacement_from_its_centre():
    """A (size, size, 3) uint8 legend: black centre and corners, right edge coloured as +x."""
    wheel = color_wheel(65)
    assert wheel.shape == (65, 65, 3) and wheel.dtype == np.uint8
    assert not wheel[32, 32].any() and not wheel[0, 0].any() and not wheel[-1, -1].any()
    right = flow_to_color(np.array([[[1.0, 0.0]]]))[0, 0]
    np.testing.assert_array_equal(wheel[32, -1], right)
    assert color_wheel().shape == (128, 128, 3)


# --------------------------------------------------------------------------- errors


def test_endpoint_error_is_the_mean_euclidean_distance_on_the_mask():
    """|(3, 4)| = 5 on the masked pixel; unmasked pixels do not count."""
    truth = np.zeros((2, 2, 2))
    estimate = np.zeros((2, 2, 2))
    estimate[0, 0] = [3.0, 4.0]
    estimate[1, 1] = [100.0, 0.0]
    mask = np.array([[True, True], [False, False]])
    assert endpoint_error(estimate, truth, mask) == pytest.approx(2.5)
    assert endpoint_error(estimate, truth) == pytest.approx(105 / 4)
    with pytest.raises(ValueError, match="mask"):
        endpoint_error(estimate, truth, np.zeros((2, 2), bool))


# --------------------------------------------------------------------------- true flow


@pytest.mark.parametrize("motion", motion_shapes.MOTIONS)
def test_render_clip_with_poses_renders_exactly_what_render_clip_renders(background, motion):
    """Same arguments and generator state: the same bytes (the dataset stays deterministic)."""
    clip, poses = shapes_clip(background, motion, "Star", k=7, num_frames=5)
    rng = np.random.default_rng(7)
    np.testing.assert_array_equal(clip, render_clip("Star", motion, background, YELLOW, 5, rng))
    assert set(poses) == {"cx", "cy", "radius", "angle"}
    assert all(v.shape == (5,) for v in poses.values())


def test_motion_shapes_generation_is_still_deterministic():
    """generate twice with one seed: identical videos."""
    a = motion_shapes.generate(1, num_frames=4, size=32, seed=3)[0]
    b = motion_shapes.generate(1, num_frames=4, size=32, seed=3)[0]
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("motion, sign", [("SlideRight", +1), ("SlideLeft", -1)])
def test_true_flow_of_a_slide_is_the_translation_on_every_sprite_pixel(background, motion, sign):
    """Pure translation: every mask pixel moves by the centre's step; the rest is zero."""
    _, poses = shapes_clip(background, motion)
    for t in (0, 3):
        field, mask = true_flow(poses, t, SIZE, "Square")
        step = [poses["cx"][t + 1] - poses["cx"][t], poses["cy"][t + 1] - poses["cy"][t]]
        assert sign * step[0] > 0 and step[1] == 0  # poses follow the clip's time order
        assert mask.dtype == bool and mask.sum() > 50
        np.testing.assert_allclose(field[mask], np.broadcast_to(step, field[mask].shape),
                                   atol=1e-5)
        assert not field[~mask].any()


def test_true_flow_mask_is_the_rendered_sprite(background):
    """Without noise, the mask is exactly the pixels where frame t differs from the background."""
    clip, poses = shapes_clip(background, "RotateCounterClockwise", "Cross", noise=0.0)
    rendered = np.round(np.clip(background, 0, 255)).astype(np.uint8)
    for t in (0, 6):
        _, mask = true_flow(poses, t, SIZE, "Cross")
        np.testing.assert_array_equal(mask, (clip[t] != rendered).any(axis=-1))


def test_true_flow_of_a_zoom_points_away_from_the_centre(background):
    """ZoomIn: displacement is parallel to (pixel - centre) and outwards."""
    _, poses = shapes_clip(background, "ZoomIn")
    field, mask = true_flow(poses, 2, SIZE, "Square")
    rows, cols = np.nonzero(mask)
    offset = np.stack([cols - poses["cx"][2], rows - poses["cy"][2]], axis=1)
    growth = poses["radius"][3] / poses["radius"][2] - 1
    np.testing.assert_allclose(field[rows, cols], growth * offset, atol=1e-4)


def test_true_flow_refuses_a_frame_without_a_successor(background):
    """t must leave a frame t + 1 in the clip."""
    _, poses = shapes_clip(background, "SlideUp", num_frames=4)
    with pytest.raises(ValueError, match="t must be in"):
        true_flow(poses, 3, SIZE, "Square")


# --------------------------------------------------------------------------- datasets


def test_dataset_flow_stacks_the_flow_of_every_clip(background):
    """(N, T, H, W, 3) clips give (N, T-1, H, W, 2) fields of the requested dtype."""
    clips = np.stack([shapes_clip(background, "ZoomOut", k=k, num_frames=3)[0] for k in range(2)])
    out = flow.dataset_flow(clips, progress=False)
    assert out.shape == (2, 2, SIZE, SIZE, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[1], compute_flow(clips[1]))
    half = flow.dataset_flow(clips, "farneback", size=32, dtype=np.float16, progress=False)
    assert half.shape == (2, 2, 32, 32, 2) and half.dtype == np.float16
    with pytest.raises(ValueError, match="method must be one of"):
        flow.dataset_flow(clips, "horn", progress=False)
    with pytest.raises(ValueError, match="N >= 1"):
        flow.dataset_flow(clips[:0], progress=False)


def test_dataset_flow_in_threads_equals_flow_clip_by_clip(background):
    """Threads change the speed, never the result: every clip's fields, in clip order."""
    clips = np.stack([shapes_clip(background, motion, k=k, num_frames=3)[0]
                      for k, motion in enumerate(["SlideLeft", "ZoomIn", "RotateClockwise",
                                                  "SlideUp", "ZoomOut"])])
    threaded = flow.dataset_flow(clips, "farneback", progress=False, workers=3)
    for clip, fields in zip(clips, threaded, strict=True):
        np.testing.assert_array_equal(fields, compute_flow(clip, "farneback"))


def test_cached_dataset_flow_computes_once_then_reads_the_cache(background, tmp_path,
                                                                monkeypatch):
    """The second call with the same settings reads the .npz and returns the same array."""
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))
    clips = np.stack([shapes_clip(background, "SlideDown", k=k, num_frames=3)[0]
                      for k in range(2)])
    key = {"dataset": "test", "clips": [0, 1]}
    first = flow.cached_dataset_flow(clips, key, progress=False)
    assert first.shape == (2, 2, SIZE, SIZE, 2) and first.dtype == np.float32
    assert len(list((tmp_path / "features").glob("optical_flow-*.npz"))) == 1

    def fail(*args, **kwargs):
        raise AssertionError("recomputed despite the cache")

    monkeypatch.setattr(flow, "dataset_flow", fail)
    np.testing.assert_array_equal(flow.cached_dataset_flow(clips, key, progress=False), first)
    with pytest.raises(AssertionError, match="recomputed"):
        flow.cached_dataset_flow(clips, key, method="farneback", progress=False)
