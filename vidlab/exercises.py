"""Automatic checks for the notebooks' exercises, one checker for the whole course.

The ``check_<exercise>`` functions print their verdict and return nothing, so a
notebook cell that calls one shows the verdict line and nothing else.

An exercise cell ships with a stub that raises ``NotImplementedError``; the
checker then reports "not attempted yet", so Restart & Run All passes on the
shipped notebook.  Once the student writes code, the checker runs it against
known answers and prints a clear pass or fail line with a hint.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import numpy as np

PASS, FAIL, TODO = "PASS", "FAIL", "TODO"


def check(name: str, attempt: Callable[[], object], verify: Callable[[object], None],
          hint: str = "") -> str:
    """Run one exercise check and print its verdict.

    Parameters
    ----------
    name : str
        The exercise, as the notebook titles it.
    attempt : callable
        Calls the student's code and returns what it produced.  Raising
        ``NotImplementedError`` means "not attempted yet".
    verify : callable
        Receives the result; raises ``AssertionError`` with a message when wrong.
    hint : str
        Printed after a failure.

    Returns
    -------
    str
        ``"PASS"``, ``"FAIL"`` or ``"TODO"``.
    """
    try:
        result = attempt()
    except NotImplementedError:
        print(f"[{TODO}] {name}: not attempted yet. Replace `raise NotImplementedError` "
              "with your code and run the cell again.")
        return TODO
    except Exception as error:  # the student's code crashed: say so, never a raw traceback
        print(f"[{FAIL}] {name}: your code raised {type(error).__name__}: {error}")
        if hint:
            print(f"       hint: {hint}")
        return FAIL
    try:
        verify(result)
    except AssertionError as error:
        print(f"[{FAIL}] {name}: {error}")
        if hint:
            print(f"       hint: {hint}")
        return FAIL
    print(f"[{PASS}] {name}: well done.")
    return PASS


def expect_array(result: object, expected: np.ndarray, what: str, atol: float = 1e-5) -> None:
    """Assert that ``result`` is an array with ``expected``'s shape and values."""
    result = np.asarray(result)
    assert result.shape == expected.shape, (
        f"{what} should have shape {expected.shape}, yours has {result.shape}"
    )
    assert np.allclose(result, expected, atol=atol), (
        f"{what} has the right shape but different values "
        f"(largest difference {np.max(np.abs(result - expected)):.3g})"
    )


def _toy_features(seed: int = 0) -> np.ndarray:
    """Small random (N, T, D) features to test the students' descriptors on."""
    return np.random.default_rng(seed).normal(size=(5, 8, 3)).astype(np.float32)


def check_mean_std_pool(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Notebook 01: ``fn(features)`` must return the mean and the std over time, concatenated."""
    x = _toy_features()

    def verify(result: object) -> None:
        expect_array(result, np.concatenate([x.mean(1), x.std(1)], axis=1),
                     "mean_std_pool(features)")

    check("mean + std pooling", lambda: fn(x), verify,
          hint="pool over axis=1 (time) and concatenate along axis=1, mean first.")


def check_order_aware_descriptor(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Notebook 01: ``fn(features)`` must give one vector per clip that changes under reversal."""
    x = _toy_features(1)

    def verify(result: object) -> None:
        result = np.asarray(result)
        assert result.ndim == 2 and result.shape[0] == len(x), (
            f"expected one descriptor vector per clip, shape ({len(x)}, k); got {result.shape}"
        )
        backwards = np.asarray(fn(x[:, ::-1]))
        assert not np.allclose(result, backwards), (
            "your descriptor gives the same vector for a clip played backwards, so it "
            "still cannot separate SlideLeft from SlideRight"
        )

    check("an order-aware descriptor", lambda: fn(x), verify,
          hint="compare the second half of the clip with the first, or average "
               "features[:, 1:] - features[:, :-1].")


def todo(what: str = "") -> NoReturn:
    """Stand in for a line the student writes: raises ``NotImplementedError``.

    Exercise stubs call it where one line is missing in the middle of working
    code, e.g. ``f = exercises.todo("the forget gate")``; :func:`check` then
    reports "not attempted yet".
    """
    raise NotImplementedError(what)


# --------------------------------------------------------------------------- notebook 02


def check_split_sequence_multi(fn: Callable) -> None:
    """Check ``fn(seq, n_in, n_out)``: windows of ``n_in`` values and the ``n_out`` that follow.

    Expected: ``X`` of shape ``(N, n_in)`` and ``y`` of shape ``(N, n_out)`` with
    ``N = len(seq) - n_in - n_out + 1``; row ``k`` of ``X`` is ``seq[k : k + n_in]``
    and row ``k`` of ``y`` is ``seq[k + n_in : k + n_in + n_out]``.
    """
    cases = [([10, 20, 30, 40, 50, 60, 70, 80, 90], 3, 2), (list(range(1, 8)), 2, 3)]

    def attempt():
        return [fn(seq, n_in, n_out) for seq, n_in, n_out in cases]

    def verify(results):
        for (seq, n_in, n_out), result in zip(cases, results, strict=True):
            assert isinstance(result, tuple) and len(result) == 2, (
                f"split_sequence_multi(..., {n_in}, {n_out}) should return a pair (X, y)"
            )
            seq = np.asarray(seq, dtype=float)
            starts = range(len(seq) - n_in - n_out + 1)
            expected_X = np.array([seq[k : k + n_in] for k in starts])
            expected_y = np.array([seq[k + n_in : k + n_in + n_out] for k in starts])
            label = f"with n_in={n_in}, n_out={n_out} on {len(seq)} values"
            expect_array(result[0], expected_X, f"X ({label})")
            expect_array(result[1], expected_y, f"y ({label})")

    check(
        "split_sequence_multi", attempt, verify,
        hint="window k is seq[k : k + n_in] and its targets seq[k + n_in : k + n_in + n_out]; "
        "the last window must still have n_out values after it.",
    )


def check_lstm_step(fn: Callable) -> None:
    """Check ``fn(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias) -> (h_t, c_t)``.

    Compared with :func:`vidlab.models.lstm_cell.lstm_step` (tanh and sigmoid,
    Keras's gate order i, f, c, o) on random weights and states.
    """
    from vidlab.models.lstm_cell import lstm_step

    rng = np.random.default_rng(2)
    x_t, h_prev, c_prev = rng.normal(size=(3, 2)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    weights = rng.normal(size=(2, 16)), rng.normal(size=(4, 16)), rng.normal(size=16)

    def attempt():
        return fn(x_t, h_prev, c_prev, *weights)

    def verify(result):
        assert isinstance(result, tuple) and len(result) == 2, (
            "the step should return the pair (h_t, c_t)"
        )
        h_expected, c_expected = lstm_step(x_t, h_prev, c_prev, *weights)
        expect_array(result[1], c_expected, "the new cell state c_t")
        expect_array(result[0], h_expected, "the new hidden state h_t")

    check(
        "the forget gate", attempt, verify,
        hint="f is built exactly like the input gate i, with w_f, u_f and b_f, "
        "and squashed by the sigmoid (a gate is a number between 0 and 1).",
    )


def check_lstm_param_count(fn: Callable) -> None:
    """Check ``fn(units, input_dim)``: the number of weights of ``keras.layers.LSTM(units)``.

    The layer has four gates, each with an input kernel ``(input_dim, units)``,
    a recurrent kernel ``(units, units)`` and a bias ``(units,)``.
    """
    cases = [(50, 1), (16, 1), (8, 3), (1, 1)]

    def attempt():
        return [fn(units, input_dim) for units, input_dim in cases]

    def verify(results):
        for (units, input_dim), result in zip(cases, results, strict=True):
            expected = 4 * (input_dim * units + units * units + units)
            assert result == expected, (
                f"an LSTM of {units} units on {input_dim} input feature(s) has {expected} "
                f"weights, you counted {result}"
            )

    check(
        "counting an LSTM's weights", attempt, verify,
        hint="count one gate (input kernel, recurrent kernel, bias), then multiply by four.",
    )


# --------------------------------------------------------------------------- notebook 03


def _keras_recurrent_params(cell: str, units: int, input_dim: int) -> int:
    """What Keras itself counts for one ``LSTM`` or ``GRU`` layer (GRU: ``reset_after=True``)."""
    import keras

    layer = keras.layers.LSTM(units) if cell == "lstm" else keras.layers.GRU(units)
    layer.build((None, None, input_dim))
    return int(layer.count_params())


def check_recurrent_param_count(fn: Callable) -> None:
    """Check ``fn(cell, units, input_dim)``: the weights of ``keras.layers.LSTM`` or ``GRU``.

    The answer is compared with what Keras counts on layers built on the spot,
    for ``cell`` in ``("lstm", "gru")`` and several sizes.
    """
    cases = [(cell, units, dim) for cell in ("lstm", "gru")
             for units, dim in [(64, 256), (32, 32), (8, 3), (1, 1)]]

    def attempt():
        return [fn(cell, units, dim) for cell, units, dim in cases]

    def verify(results):
        for (cell, units, dim), result in zip(cases, results, strict=True):
            expected = _keras_recurrent_params(cell, units, dim)
            assert result == expected, (
                f"keras.layers.{cell.upper()}({units}) on {dim} input features has {expected} "
                f"weights, your formula gives {result}"
            )

    check(
        "LSTM and GRU weights", attempt, verify,
        hint="an LSTM has 4 gates, a GRU 3; each gate has an input kernel (input_dim x units), "
        "a recurrent kernel (units x units) and a bias (units) -- and Keras' GRU "
        "(reset_after=True) keeps two biases per gate.",
    )


def check_random_clip_split(fn: Callable) -> None:
    """Check ``fn(num_clips, fraction, seed)``: a random split of clip indices, ignoring groups.

    Expected: ``(train, validation)`` index arrays that together hold every
    clip once, ``round(fraction * num_clips)`` of them in ``validation``, drawn
    at random (not a block of consecutive clips) and changing with ``seed``.
    """
    num_clips, fraction = 60, 0.25

    def attempt():
        return fn(num_clips, fraction, 0), fn(num_clips, fraction, 1)

    def verify(result):
        first, other_seed = result
        assert isinstance(first, tuple) and len(first) == 2, (
            "the split should return the pair (train_indices, validation_indices)"
        )
        fit_part, held_out = (np.asarray(part).ravel() for part in first)
        assert sorted(np.concatenate([fit_part, held_out]).tolist()) == list(range(num_clips)), (
            f"train and validation together should hold each of the {num_clips} clip indices "
            "exactly once"
        )
        expected = round(fraction * num_clips)
        assert len(held_out) == expected, (
            f"with fraction={fraction} of {num_clips} clips, validation should hold {expected} "
            f"clips, yours holds {len(held_out)}"
        )
        ordered = np.sort(held_out)
        assert not np.all(np.diff(ordered) == 1), (
            "validation is a block of consecutive clips; clips are stored class by class, "
            "so that holds out whole classes -- draw the clips at random"
        )
        assert not np.array_equal(ordered, np.sort(np.asarray(other_seed[1]).ravel())), (
            "seeds 0 and 1 give the same validation clips: use the seed for the random draw"
        )

    check(
        "a random (leaky) split", attempt, verify,
        hint="order = np.random.default_rng(seed).permutation(num_clips); the first "
        "round(fraction * num_clips) of them are the validation clips.",
    )


# --------------------------------------------------------------------------- notebook 04


def _toy_flow(num_fields: int = 6, height: int = 3, width: int = 4) -> np.ndarray:
    """A ``(T, H, W, 2)`` field whose values say where they came from.

    Field ``t``'s x value is ``10 t + 0.25`` and its y value ``10 t + 0.5``,
    plus a tiny pixel-dependent offset, so a wrong channel order or a wrong
    window can be named in the message.
    """
    t = np.arange(num_fields, dtype=np.float64)[:, None, None, None]
    pixel = (np.arange(height)[:, None] * width + np.arange(width))[None, :, :, None] / 1000
    return (10 * t + np.array([0.25, 0.5]) + pixel).astype(np.float32)


def check_stack_flow(fn: Callable) -> None:
    """Notebook 04: ``fn(flow, length, start)`` must stack ``length`` flow fields into one input.

    Expected: ``(H, W, 2 * length)`` with channels ``[x_start, y_start,
    x_start+1, y_start+1, ...]``, as :func:`vidlab.flow.stack_flow`.
    """
    from vidlab.flow import stack_flow

    field = _toy_flow()
    cases = [(3, 1), (1, 0), (6, 0), (2, 4)]

    def attempt():
        return [fn(field.copy(), length, start) for length, start in cases]

    def verify(results):
        for (length, start), result in zip(cases, results, strict=True):
            expected = stack_flow(field, length, start)
            result = np.asarray(result)
            label = f"stacking {length} field(s) from field {start}"
            assert result.shape == expected.shape, (
                f"{label} should give shape {expected.shape} (H, W, 2 * length), "
                f"yours has {result.shape}"
            )
            pixel = result[0, 0]
            blocked = np.concatenate([field[start:start + length, 0, 0, 0],
                                      field[start:start + length, 0, 0, 1]])
            assert not (length > 1 and np.allclose(pixel, blocked)), (
                f"{label}: you put every x first, then every y; the two-stream input "
                "interleaves them field by field: x, y of field start, then x, y of the next"
            )
            assert np.allclose(pixel[::2] // 10, np.arange(start, start + length)), (
                f"{label}: channel 0, 2, 4, ... should come from fields "
                f"{start}..{start + length - 1}, yours come from fields "
                f"{(pixel[::2] // 10).astype(int).tolist()}"
            )
            expect_array(result, expected, label)

    check(
        "stacking optical flow", attempt, verify,
        hint="take flow[start:start + length] (L, H, W, 2), move the field axis next to the "
        "x/y axis with np.moveaxis(window, 0, 2) to get (H, W, L, 2), then reshape to "
        "(H, W, 2 * L).",
    )


def check_cross_modality_kernel(fn: Callable) -> None:
    """Notebook 04: ``fn(kernel, channels)``: the TSN cross-modality initialisation of a kernel.

    ``kernel`` is a first-layer Conv2D kernel ``(kh, kw, 3, filters)`` of an RGB
    network; the answer is ``(kh, kw, channels, filters)`` whose every input
    channel is the mean of the kernel over its three RGB channels.
    """
    rng = np.random.default_rng(4)
    kernels = [rng.normal(size=(3, 3, 3, 5)).astype(np.float32),
               rng.normal(size=(1, 1, 3, 2)).astype(np.float32)]
    channels = [16, 4]

    def attempt():
        return [fn(k.copy(), c) for k, c in zip(kernels, channels, strict=True)]

    def verify(results):
        for kernel, c, result in zip(kernels, channels, results, strict=True):
            mean = kernel.mean(axis=2, keepdims=True)
            expected = np.repeat(mean, c, axis=2)
            result = np.asarray(result)
            assert result.shape == expected.shape, (
                f"a {kernel.shape} kernel for {c} flow channels should become "
                f"{expected.shape}, yours is {result.shape}"
            )
            assert not np.allclose(result, 3 * expected), (
                "you summed the three RGB filters; average them instead, or the first "
                "layer's responses grow with the number of channels you replicate to"
            )
            expect_array(result, expected, f"the kernel for {c} channels")

    check(
        "cross-modality initialisation", attempt, verify,
        hint="kernel.mean(axis=2, keepdims=True) averages over R, G, B; np.repeat(..., "
        "channels, axis=2) copies the average to every flow channel.",
    )


def _fusion_validation_set() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two-class validation scores whose best spatial weights lie strictly inside (0.574, 0.826).

    Each clip is classified right for spatial weights above (or below) one
    threshold of its own; the thresholds avoid the points of any regular grid
    with steps of 0.1 or 0.05, so every reasonable search finds the plateau.
    """
    above = [0.213, 0.371, 0.574]  # right only when the spatial weight is larger
    below = [0.826, 0.932]  # right only when the spatial weight is smaller
    spatial, temporal, labels = [], [], []
    for k, threshold in enumerate(above + below):
        margin_s, margin_t = 0.4 * (1 - threshold), 0.4 * threshold
        if threshold in below:
            margin_s, margin_t = -margin_s, -margin_t
        s_true, t_true = 0.5 + margin_s, 0.5 - margin_t  # probability of the true class
        label = k % 2
        spatial.append([s_true, 1 - s_true][:: 1 if label == 0 else -1])
        temporal.append([t_true, 1 - t_true][:: 1 if label == 0 else -1])
        labels.append(label)
    # clips both streams get right, and one neither does, whatever the weight
    for label, s_true, t_true in [(0, 0.8, 0.7), (1, 0.9, 0.6), (1, 0.3, 0.2)]:
        spatial.append([s_true, 1 - s_true][:: 1 if label == 0 else -1])
        temporal.append([t_true, 1 - t_true][:: 1 if label == 0 else -1])
        labels.append(label)
    return np.array(spatial), np.array(temporal), np.array(labels)


def check_fusion_weight(fn: Callable) -> None:
    """Notebook 04: ``fn(spatial_val, temporal_val, y_val)`` must return the best spatial weight.

    The fused score is ``w * spatial + (1 - w) * temporal``; the answer must be a
    number in [0, 1] whose fused validation accuracy is the best any weight
    reaches (searched here on a grid of step 0.001).
    """
    spatial, temporal, y = _fusion_validation_set()

    def accuracy(weight: float) -> float:
        return float(np.mean((weight * spatial + (1 - weight) * temporal).argmax(1) == y))

    best = max(accuracy(w) for w in np.linspace(0, 1, 1001))

    def verify(result):
        assert np.ndim(result) == 0, f"return one number (the spatial weight), not {result!r}"
        weight = float(result)
        assert 0.0 <= weight <= 1.0, f"a weight must lie in [0, 1]; yours is {weight}"
        got = accuracy(weight)
        assert got == best, (
            f"with weight {weight:.3f} the fused validation accuracy is {got:.3f}; some "
            f"weights reach {best:.3f} (the plain average, 0.5, gets {accuracy(0.5):.3f})"
        )

    check(
        "choosing the fusion weight", lambda: fn(spatial.copy(), temporal.copy(), y.copy()),
        verify,
        hint="try every weight of np.linspace(0, 1, 21), fuse, take the argmax over classes, "
        "compare with y_val, and keep the weight with the highest accuracy.",
    )


# --------------------------------------------------------------------------- notebook 05


def _inflated_reference(conv_2d, kt: int):
    """The I3D inflation of ``conv_2d``: a built ``Conv3D``, the 2D kernel repeated over kt / kt."""
    import keras

    conv_3d = keras.layers.Conv3D(
        conv_2d.filters, (kt, *conv_2d.kernel_size), (1, *conv_2d.strides),
        padding=conv_2d.padding, activation=conv_2d.activation, use_bias=conv_2d.use_bias,
    )
    conv_3d.build((None, None, None, None, conv_2d.kernel.shape[2]))
    kernel, *bias = conv_2d.get_weights()
    conv_3d.set_weights([np.repeat(kernel[np.newaxis], kt, axis=0) / kt, *bias])
    return conv_3d


def _held_out_convs() -> list:
    """Conv2D layers with weights the student never sees: biases, strides, an activation."""
    import keras

    rng = np.random.default_rng(7)
    layers_2d = [
        keras.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu"),
        keras.layers.Conv2D(4, (5, 3), padding="valid", use_bias=True),
    ]
    for conv, channels in zip(layers_2d, (3, 2), strict=True):
        conv.build((None, None, None, channels))
        conv.set_weights([rng.normal(size=w.shape).astype(np.float32) for w in conv.weights])
    return layers_2d


def _boring_and_moving(channels: int, frames: int,
                       seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A random image, that image repeated over ``frames`` (a boring video), a clip that moves."""
    rng = np.random.default_rng(seed)
    image = rng.uniform(-1, 1, (2, 16, 16, channels)).astype(np.float32)
    moving = rng.uniform(-1, 1, (2, frames, 16, 16, channels)).astype(np.float32)
    return image, np.repeat(image[:, np.newaxis], frames, axis=1), moving


def _verify_inflated_conv(conv_3d: object, conv_2d, kt: int, label: str, seed: int) -> None:
    """Raise AssertionError saying what is wrong with ``conv_3d`` as ``conv_2d`` inflated."""
    import keras

    assert isinstance(conv_3d, keras.layers.Conv3D), (
        f"{label}: return a keras.layers.Conv3D layer; yours is a {type(conv_3d).__name__}"
    )
    frames = 8
    image, boring, moving = _boring_and_moving(conv_2d.kernel.shape[2], frames, seed)
    try:
        response = np.asarray(conv_3d(boring))
    except Exception as error:  # wrong input channels, an unbuilt kernel of the wrong shape...
        raise AssertionError(
            f"{label}: calling it on a video of shape {boring.shape} raised "
            f"{type(error).__name__}: {error}"
        ) from error
    reference = _inflated_reference(conv_2d, kt)
    kernel = tuple(reference.kernel.shape)
    assert tuple(conv_3d.kernel.shape) == kernel, (
        f"{label}: its kernel should have shape (kt, kh, kw, in, out) = {kernel}, time first; "
        f"yours has {tuple(conv_3d.kernel.shape)}"
    )
    expected_params = reference.count_params()
    assert conv_3d.count_params() == expected_params, (
        f"{label}: it should hold {expected_params:,} weights (kt times the 2D kernel's"
        f"{', plus its biases' if conv_2d.use_bias else ''}); yours holds "
        f"{conv_3d.count_params():,}"
    )
    expected_shape = tuple(np.asarray(reference(boring)).shape)
    assert response.shape == expected_shape, (
        f"{label}: on a video of shape {boring.shape} its output should have shape "
        f"{expected_shape}, yours has {response.shape}: keep the 2D layer's strides and padding "
        "in space, and stride 1 in time"
    )
    inside = slice((kt - 1) // 2, frames - kt // 2) if conv_2d.padding == "same" else slice(None)
    image_response = np.asarray(conv_2d(image))[:, np.newaxis]
    gap = np.abs(response[:, inside] - image_response).max()
    if gap > 1e-4 and kt > 1 and np.allclose(response[:, inside], kt * image_response, atol=1e-3):
        raise AssertionError(
            f"{label}: on a boring video it gives {kt} times the 2D response (divide by kt)")
    assert gap <= 1e-4, (
        f"{label}: on a boring video (one image repeated) the frames that see no padding should "
        f"give the 2D layer's output on the image; yours differ by up to {gap:.3g}"
    )
    held_out = np.abs(np.asarray(conv_3d(moving)) - np.asarray(reference(moving))).max()
    assert held_out <= 1e-4, (
        f"{label}: it passes the boring video, but on a held-out clip that moves it differs from "
        f"I3D's inflation by up to {held_out:.3g}: spread the 2D kernel evenly over the kt frames "
        "(kt equal slices), do not put it all in one"
    )


def check_inflate_conv(fn: Callable, trained_conv) -> None:
    """Check ``fn(conv_2d, kt)``: a trained Conv2D layer inflated into a Conv3D layer, the I3D way.

    ``fn`` is called on ``trained_conv`` (a Conv2D of the pretrained image
    network, kt = 3) and on two held-out Conv2D layers (one strided with biases
    and a ReLU, one VALID with a 5 x 3 kernel; kt = 5 and 2).  Each answer must
    be a ``keras.layers.Conv3D`` with the kernel shape ``(kt, kh, kw, in, out)``
    and the parameter count of the inflation; on a boring video (one image
    repeated) its output must equal the 2D layer's on the image wherever the
    filter sees no padding; and on a held-out clip that moves it must give the
    numbers of the reference inflation (the 2D kernel repeated ``kt`` times
    and divided by ``kt``, biases kept).

    Parameters
    ----------
    fn : callable
        The student's ``inflate_conv(conv_2d, kt)``.
    trained_conv : keras.layers.Conv2D
        A built Conv2D layer with trained weights.
    """
    cases = [(trained_conv, 3, f"{trained_conv.name} (kt=3)")]
    cases += [(conv, kt, f"a held-out Conv2D {tuple(conv.kernel.shape)} (kt={kt})")
              for conv, kt in zip(_held_out_convs(), (5, 2), strict=True)]

    def attempt():
        return [fn(conv, kt) for conv, kt, _ in cases]

    def verify(results):
        for seed, ((conv, kt, label), result) in enumerate(zip(cases, results, strict=True)):
            _verify_inflated_conv(result, conv, kt, label, seed)

    check(
        "inflating a trained Conv2D layer", attempt, verify,
        hint="keras.layers.Conv3D(filters, (kt, *kernel_size), strides=(1, *strides), "
        "padding, activation and use_bias as the 2D layer's), then build it and "
        "set_weights([inflate_kernel(kernel, kt), *biases]).",
    )


def _minimum_length(strides: tuple[int, ...], window: int) -> int:
    """Smallest input length that leaves ``window`` positions after SAME-padded ``strides``."""
    length = 1
    while True:
        remaining = length
        for stride in strides:
            remaining = -(-remaining // stride)
        if remaining >= window:
            return length
        length += 1


def check_minimum_frames(fn: Callable) -> None:
    """Check ``fn(strides, window)``: the shortest input a head with a VALID ``window`` accepts.

    With SAME padding each stride ``s`` maps a length ``n`` to ``ceil(n / s)``;
    the answer is the smallest ``n`` that still leaves ``window`` positions at
    the head.  I3D's time axis (strides 2, 2, 2 and a head window of 2) gives
    :func:`vidlab.models.i3d.minimum_frames`, its space axis (five strides of 2
    and a window of 7) :func:`vidlab.models.i3d.minimum_size`.
    """
    from vidlab.models import i3d

    cases = [((2, 2, 2), 2), ((2, 2, 2, 2, 2), 7), ((), 3), ((3,), 2), ((2, 2), 1), ((2, 3), 4)]

    def attempt():
        return [fn(list(strides), window) for strides, window in cases]

    def verify(results):
        expected = [_minimum_length(strides, window) for strides, window in cases]
        assert expected[0] == i3d.minimum_frames() and expected[1] == i3d.minimum_size()
        for (strides, window), result, answer in zip(cases, results, expected, strict=True):
            where = ("I3D's time axis: i3d.minimum_frames()" if (strides, window) == cases[0]
                     else "I3D's space axis: i3d.minimum_size()" if (strides, window) == cases[1]
                     else f"strides {list(strides)} and a head window of {window}")
            assert result == answer, (
                f"for {where}, the shortest input is {answer}, you computed {result}"
            )

    check(
        "the shortest clip the head accepts", attempt, verify,
        hint="walk back from the head: to leave m positions after a stride s you need "
        "s * (m - 1) + 1 positions before it; start from m = window and go through the "
        "strides in reverse order.",
    )
