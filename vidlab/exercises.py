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


#: Held-out accuracy an order-aware descriptor must reach on the sliding-sprite toy features.
ORDER_AWARE_ACCURACY = 0.9


def _sliding_sprites(num_clips: int, seed: int, num_frames: int = 8,
                     grid: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Toy frame features of a sprite sliding right, left, down or up (labels 0 to 3).

    Labels 0/1 and 2/3 are reversal pairs: the sprite's centre is uniform in the middle of
    a unit square and it travels 0.3 along its direction, so a clip played backwards is
    exactly as likely a clip of the partner class.  Each of the ``grid ** 2`` features is
    a unit tuned to one place (a Gaussian of width 0.15 around a point of a regular grid,
    plus noise), as units of ``fc2`` are tuned to where the sprite is.

    Returns
    -------
    features : (num_clips, num_frames, grid ** 2) float32
    labels : (num_clips,) int
    """
    rng = np.random.default_rng([seed, 1])
    labels = rng.integers(4, size=num_clips)
    centres = rng.uniform(0.2, 0.8, size=(num_clips, 1, 2))
    directions = np.array([[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0], [0.0, -1.0]])[labels]
    steps = np.linspace(-0.15, 0.15, num_frames)[None, :, None]
    where = centres + steps * directions[:, None, :]  # (N, T, 2)
    axis = np.linspace(0.0, 1.0, grid)
    places = np.stack(np.meshgrid(axis, axis), axis=-1).reshape(-1, 2)  # (grid ** 2, 2)
    distance2 = ((where[:, :, None, :] - places) ** 2).sum(axis=-1)
    features = np.exp(-distance2 / (2 * 0.15**2)) + rng.normal(0.0, 0.05, distance2.shape)
    return features.astype(np.float32), labels


def check_order_aware_descriptor(fn: Callable[[np.ndarray], np.ndarray]) -> None:
    """Notebook 01: ``fn(features)`` must tell a clip from its reversal, and tell directions.

    ``fn`` maps ``(N, T, D)`` features to ``(N, k)`` descriptors.  On toy features of a
    sprite sliding in four directions (:func:`_sliding_sprites`, two reversal pairs), the
    descriptor must change when the clips are played backwards, and a logistic regression
    on it, fitted on 400 clips, must get at least :data:`ORDER_AWARE_ACCURACY` of 400
    held-out clips right.  Changing under reversal alone is not enough: the first frame
    alone changes too, and says nothing about where the sprite goes.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    train, y_train = _sliding_sprites(400, seed=0)
    test, y_test = _sliding_sprites(400, seed=1)

    def attempt():
        return fn(train), fn(train[:, ::-1]), fn(test)

    def verify(result: object) -> None:
        forwards, backwards, held_out = (np.asarray(r, dtype=float) for r in result)
        assert forwards.ndim == 2 and forwards.shape[0] == len(train), (
            f"expected one descriptor vector per clip, shape ({len(train)}, k); "
            f"got {forwards.shape}"
        )
        assert np.isfinite(forwards).all() and np.isfinite(held_out).all(), (
            "your descriptor contains NaN or infinite values"
        )
        assert not np.allclose(forwards, backwards), (
            "your descriptor gives the same vector for a clip played backwards, so it "
            "still cannot separate SlideLeft from SlideRight"
        )
        classifier = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
        accuracy = classifier.fit(forwards, y_train).score(held_out, y_test)
        assert accuracy >= ORDER_AWARE_ACCURACY, (
            f"your descriptor changes under reversal, but a logistic regression on it gets "
            f"only {accuracy:.3f} of held-out toy clips (a sprite sliding right, left, down "
            f"or up) right, and the check wants {ORDER_AWARE_ACCURACY}: it must also say "
            "which way things moved, not just differ when the clip is reversed"
        )

    check("an order-aware descriptor", attempt, verify,
          hint="compare where the clip ends with where it starts: the second half minus "
               "the first, or the mean of features[:, 1:] - features[:, :-1].")


#: The cuts :func:`check_pooled_extractor` asks for, and the features each one gives.
POOLED_CUTS = {"block3_pool": 128, "block2_pool": 64}


def check_pooled_extractor(fn: Callable) -> None:
    """Notebook 01: ``fn(network, layer)`` must cut ``network`` at ``layer`` and average over space.

    The result must be a ``keras.Model`` from ``network.input`` to the output of the layer
    named ``layer``, averaged over height and width by a final ``GlobalAveragePooling2D``,
    with the pretrained network's own weights.  The check cuts the pretrained ``shapes_vgg``
    at each layer of :data:`POOLED_CUTS` and compares the layer types, the output shape,
    the parameter count and the features of 16 still images the network never saw with
    those of the reference cut.
    """
    import keras

    from vidlab import backbones, pretrain

    network = backbones.get_backbone("shapes_vgg", "quick").classifier
    stills = pretrain.preprocess(pretrain.render_stills(16, seed=3)[0])

    def attempt():
        return {layer: fn(network, layer) for layer in POOLED_CUTS}

    def verify(result: object) -> None:
        for layer, size in POOLED_CUTS.items():
            model, call = result[layer], f"pooled_extractor(network, {layer!r})"
            assert isinstance(model, keras.Model), (
                f"{call} should return a keras.Model, not a {type(model).__name__}"
            )
            assert tuple(model.input_shape) == tuple(network.input_shape), (
                f"{call} should read the network's frames, {network.input_shape}; "
                f"yours reads {model.input_shape}"
            )
            assert tuple(model.output_shape) == (None, size), (
                f"{call} should give {size} values per frame, shape (None, {size}); yours "
                f"gives {model.output_shape}"
                + (": average over height and width" if len(model.output_shape) == 4 else "")
            )
            kinds = [type(part).__name__ for part in model.layers]
            assert "Dense" not in kinds and "Flatten" not in kinds, (
                f"{call} contains {', '.join(k for k in kinds if k in ('Flatten', 'Dense'))}: "
                f"stop at {layer} itself, before the flatten and the dense layers"
            )
            assert kinds[-1] == "GlobalAveragePooling2D", (
                f"{call} should end with a GlobalAveragePooling2D layer (the average over "
                f"all positions); yours ends with {kinds[-1]}"
            )
            reference = keras.Model(network.input, keras.layers.GlobalAveragePooling2D()(
                network.get_layer(layer).output))
            assert model.count_params() == reference.count_params(), (
                f"{call} has {model.count_params():,} parameters; the layers up to {layer} "
                f"have {reference.count_params():,}"
            )
            expected = np.asarray(reference.predict_on_batch(stills))
            got = np.asarray(model.predict_on_batch(stills))
            assert np.allclose(got, expected, atol=1e-4 * (1 + np.abs(expected).max())), (
                f"{call} has the right layers, but its features of 16 still images the "
                f"network never saw differ from the pretrained network's (largest difference "
                f"{np.abs(got - expected).max():.3g}): build on the network's own layers, "
                f"network.get_layer({layer!r}).output, instead of new ones"
            )

    check("a pooled extractor", attempt, verify,
          hint="layers.GlobalAveragePooling2D()(network.get_layer(layer).output) is the "
               "output; keras.Model(network.input, that output) is the extractor.")


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


def check_inflate_kernel(fn: Callable) -> None:
    """Check ``fn(kernel_2d, kt)``: a Conv2D kernel inflated to a Conv3D kernel, the I3D way.

    Compared with :func:`vidlab.models.inflate.inflate_kernel`: ``kt`` copies of
    the ``(kh, kw, in, out)`` kernel stacked on a new first (time) axis, each
    divided by ``kt``, so that a video of one repeated image gives the 2D response.
    """
    from vidlab.models.inflate import inflate_kernel

    rng = np.random.default_rng(5)
    cases = [(rng.normal(size=(3, 3, 2, 4)).astype(np.float32), 3),
             (rng.normal(size=(5, 5, 3, 2)).astype(np.float32), 5),
             (rng.normal(size=(1, 1, 4, 3)).astype(np.float32), 1),
             (rng.normal(size=(3, 3, 1, 2)).astype(np.float32), 2)]

    def attempt():
        return [fn(kernel, kt) for kernel, kt in cases]

    def verify(results):
        for (kernel, kt), result in zip(cases, results, strict=True):
            result = np.asarray(result)
            label = f"the inflation of a {kernel.shape} kernel to kt={kt}"
            expected = inflate_kernel(kernel, kt)
            assert result.shape == expected.shape, (
                f"{label} should have shape {expected.shape} (time first), yours has "
                f"{result.shape}"
            )
            assert np.allclose(result.sum(axis=0), kernel, atol=1e-5), (
                f"{label}: its {kt} time slices should add up to the 2D kernel (a video of one "
                "repeated image must give the image's response); yours add up to "
                f"{np.abs(result.sum(axis=0)).mean() / np.abs(kernel).mean():.2f} times it"
            )
            expect_array(result, expected, label)

    check(
        "inflating a Conv2D kernel by hand", attempt, verify,
        hint="np.repeat(kernel_2d[np.newaxis], kt, axis=0) stacks kt copies on a new time "
        "axis; then divide by kt.",
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
