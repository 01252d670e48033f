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

import keras
import numpy as np
from keras import layers
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from vidlab import backbones, config, pretrain
from vidlab import train as training
from vidlab.flow import stack_flow
from vidlab.forecasting import fit_full_batch
from vidlab.models import i3d
from vidlab.sequences import split_sequence

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

    network = backbones.get_backbone("shapes_vgg", "quick").classifier
    stills = backbones.preprocess_shapes_vgg(pretrain.render_stills(16, seed=3)[0])

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


#: The toy series of notebook 02 and the question it asks: what comes after 70, 80, 90?
_TOY = [10, 20, 30, 40, 50, 60, 70, 80, 90]
#: Exercise "a deeper stack": three LSTM layers of this many units, relu, then Dense(1).
DEEPER_STACK_UNITS = 32
#: How far from 100 its forecast after [70, 80, 90] may land once trained as in section 3.
DEEPER_STACK_TOLERANCE = 2.0


def _stack_param_count(units: int, layers: int) -> int:
    """Weights of ``layers`` stacked ``LSTM(units)`` on 1 input feature, plus ``Dense(1)``."""
    first = 4 * (1 * units + units * units + units)
    later = 4 * (units * units + units * units + units)
    return first + (layers - 1) * later + units + 1


def check_deeper_stack(fn: Callable) -> None:
    """Check ``fn()``: a forecaster of three stacked ``LSTM(32, activation="relu")``, ``Dense(1)``.

    ``fn`` is called after ``config.seed_everything(0)`` and must return a model that reads
    windows of 3 values, ``(batch, 3, 1)``.  The check verifies its layers (three LSTMs
    of :data:`DEEPER_STACK_UNITS` units with relu, ``return_sequences`` on all but the
    last, a ``Dense(1)`` head), its output shape and its parameter count; then it trains
    the model as notebook 02 trains the toy forecasters (300 full-batch updates of Adam
    at 0.01 on the six windows of the toy) and asks for the value after ``[70, 80, 90]``,
    which no training target shows: it must lie within :data:`DEEPER_STACK_TOLERANCE`
    of 100.
    """

    units = DEEPER_STACK_UNITS

    def attempt():
        config.seed_everything(0)
        return fn()

    def verify(model):
        assert isinstance(model, keras.Model), (
            f"return the Keras model itself (e.g. a keras.Sequential), not {type(model).__name__}"
        )
        assert model.built, "start the model with keras.Input((3, 1)): it reads windows of 3 values"
        assert tuple(model.input_shape) == (None, 3, 1), (
            f"the model should read windows of 3 values, (None, 3, 1); yours reads "
            f"{tuple(model.input_shape)}"
        )
        lstms = [layer for layer in model.layers if isinstance(layer, keras.layers.LSTM)]
        assert len(lstms) == 3, f"expected three LSTM layers, your model has {len(lstms)}"
        for number, layer in enumerate(lstms, start=1):
            assert layer.units == units, (
                f"LSTM layer {number} has {layer.units} units; the exercise asks for {units}"
            )
            assert layer.activation is keras.activations.relu, (
                f"LSTM layer {number} uses {layer.activation.__name__}; the toy's forecasters "
                "use activation=\"relu\" (the series is not scaled)"
            )
            wanted = number < 3
            assert layer.return_sequences == wanted, (
                f"LSTM layer {number} has return_sequences={layer.return_sequences}: "
                + ("it must hand its whole output sequence to the next LSTM" if wanted else
                   "the last LSTM must return only its final state, one vector per window")
            )
        head = model.layers[-1]
        assert isinstance(head, keras.layers.Dense) and head.units == 1, (
            "the last layer should be the head Dense(1): one value per window"
        )
        assert tuple(model.output_shape) == (None, 1), (
            f"the model should output one value per window, (None, 1); yours gives "
            f"{tuple(model.output_shape)}"
        )
        expected = _stack_param_count(units, 3)
        assert model.count_params() == expected, (
            f"three LSTM({units}) and a Dense(1) have {expected:,} weights, your model has "
            f"{model.count_params():,}: is there a layer too many?"
        )
        windows, targets = split_sequence(_TOY, 3)
        fit_full_batch(model, windows[..., None], targets[:, None], steps=300,
                       learning_rate=0.01)
        last = np.array(_TOY[-3:], dtype=np.float32).reshape(1, 3, 1)
        forecast = float(keras.ops.convert_to_numpy(model(last, training=False))[0, 0])
        assert abs(forecast - 100) <= DEEPER_STACK_TOLERANCE, (
            f"the architecture is right, but after 300 updates your model forecasts "
            f"{forecast:.2f} after [70, 80, 90], more than {DEEPER_STACK_TOLERANCE} from 100"
        )

    check(
        "a deeper stack", attempt, verify,
        hint="keras.Sequential([keras.Input((3, 1)), LSTM, LSTM, LSTM, Dense(1)]); every LSTM "
        "that feeds another LSTM needs return_sequences=True, so that it hands on a sequence.",
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


def _sigmoid(z: np.ndarray) -> np.ndarray:
    """The logistic function, written with tanh so that it never overflows."""
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def _peephole_lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole,
                        output_reads_new_cell=True):
    """The reference answer: one LSTM step with peephole connections.

    As in Graves (2013) and, with convolutions, Shi et al. (2015): the input and forget
    gates also read ``c_prev`` and the output gate the new cell state ``c_t``, each
    through its own row of ``peephole`` (``p_i, p_f, p_o``), elementwise.  Weights are
    packed in Keras's gate order i, f, c, o.  ``output_reads_new_cell=False`` gives a
    common mistake (the output gate reading ``c_prev``), to name it in the feedback.
    """
    z_i, z_f, z_g, z_o = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=-1)
    p_i, p_f, p_o = peephole
    i = _sigmoid(z_i + p_i * c_prev)
    f = _sigmoid(z_f + p_f * c_prev)
    c_t = f * c_prev + i * np.tanh(z_g)
    o = _sigmoid(z_o + p_o * (c_t if output_reads_new_cell else c_prev))
    return o * np.tanh(c_t), c_t


def check_peephole_step(fn: Callable) -> None:
    """Check ``fn(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias, peephole) -> (h_t, c_t)``.

    ``peephole`` is ``(3, units)``: the rows ``p_i, p_f, p_o`` that let the input and
    forget gates see ``c_prev`` and the output gate see ``c_t``.  Compared on random
    weights and states with the reference :func:`_peephole_lstm_step`; the feedback
    names the two usual mistakes (no peephole terms at all, an output gate that reads
    the old cell state).
    """
    rng = np.random.default_rng(2)
    x_t, h_prev, c_prev = rng.normal(size=(3, 2)), rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    weights = (rng.normal(size=(2, 16)), rng.normal(size=(4, 16)), rng.normal(size=16),
               rng.normal(size=(3, 4)))

    def attempt():
        return fn(x_t, h_prev, c_prev, *weights)

    def same(result, reference) -> bool:
        return all(np.shape(r) == np.shape(e) and np.allclose(r, e, atol=1e-6)
                   for r, e in zip(result, reference, strict=True))

    def verify(result):
        assert isinstance(result, tuple) and len(result) == 2, (
            "the step should return the pair (h_t, c_t)"
        )
        h_expected, c_expected = _peephole_lstm_step(x_t, h_prev, c_prev, *weights)
        without = _peephole_lstm_step(x_t, h_prev, c_prev, *weights[:3], np.zeros((3, 4)))
        assert not same(result, without), (
            "your step gives what an LSTM without peepholes gives: add p_i * c_prev, "
            "p_f * c_prev and p_o * c_t to the three gates' pre-activations"
        )
        old_cell = _peephole_lstm_step(x_t, h_prev, c_prev, *weights,
                                       output_reads_new_cell=False)
        assert not same(result, old_cell), (
            "your output gate reads c_prev; it should read the new cell state c_t, "
            "computed just before it"
        )
        expect_array(result[1], c_expected, "the new cell state c_t")
        expect_array(result[0], h_expected, "the new hidden state h_t")

    check(
        "an LSTM step with peepholes", attempt, verify,
        hint="start from lstm_step of section 2; the peephole terms are elementwise products "
        "(p * c, not matrix products), inside the sigmoids of i, f and o only.",
    )


# --------------------------------------------------------------------------- notebook 03


def _keras_recurrent_params(cell: str, units: int, input_dim: int) -> int:
    """What Keras itself counts for one ``LSTM`` or ``GRU`` layer (GRU: ``reset_after=True``)."""

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


#: The most weights exercise 3's GRU head may have (section 5's GRU head has 26,120).
SMALL_HEAD_WEIGHTS = 10_000


def _layers_within(model) -> list:
    """Every layer of ``model``, with those inside nested models and wrappers (Bidirectional)."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found += _layers_within(layer)
        for inner in ("layer", "forward_layer", "backward_layer"):
            if getattr(layer, inner, None) is not None:
                found.append(getattr(layer, inner))
    return found


def _check_small_head_architecture(model, num_frames: int, dim: int, num_classes: int) -> None:
    """Assert what exercise 3 asks of the model itself, before any training."""

    assert isinstance(model, keras.Model), (
        f"build_small_gru_head should return a keras.Model, not {type(model).__name__}"
    )
    assert len(model.inputs) == 1 and len(model.outputs) == 1, (
        "the model should have one input (the frame features) and one output"
    )
    assert tuple(model.input_shape) == (None, None, dim), (
        f"the input should be keras.Input((None, {dim})): clips of any number of frames of "
        f"{dim} features; yours takes {tuple(model.input_shape)}"
    )
    assert tuple(model.output_shape) == (None, num_classes), (
        f"the output should hold {num_classes} class probabilities per clip, shape "
        f"(None, {num_classes}); yours has {tuple(model.output_shape)}"
    )
    kinds = [type(layer).__name__ for layer in _layers_within(model)]
    assert "GRU" in kinds, f"no keras.layers.GRU in your model; its layers are {kinds}"
    assert "LSTM" not in kinds, "the exercise asks for a GRU head: replace the LSTM by a GRU"
    weights = model.count_params()
    assert weights <= SMALL_HEAD_WEIGHTS, (
        f"your head has {weights:,} weights, more than {SMALL_HEAD_WEIGHTS:,}; the largest "
        "layers: " + ", ".join(f"{layer.name} {layer.count_params():,}" for layer in
                               sorted(model.layers, key=lambda lay: -lay.count_params())[:2])
    )
    rng = np.random.default_rng(6)
    clips = rng.normal(size=(2, num_frames, dim)).astype(np.float32)
    probabilities = keras.ops.convert_to_numpy(model(clips, training=False))
    assert np.all(probabilities >= 0) and np.allclose(probabilities.sum(-1), 1.0, atol=1e-4), (
        "the outputs are not probabilities (each row should sum to 1): end with "
        "Dense(num_classes, activation='softmax')"
    )
    short = clips[:, : num_frames // 2]
    padded = np.concatenate([short, np.zeros_like(short)], axis=1)
    alone = keras.ops.convert_to_numpy(model(short, training=False))
    in_batch = keras.ops.convert_to_numpy(model(padded, training=False))
    assert np.allclose(alone, in_batch, atol=1e-4), (
        "a clip padded with zero frames gets other probabilities than the clip alone: put "
        "keras.layers.Masking(mask_value=0.0) right after the input, before any layer that "
        "changes the zeros"
    )


def check_small_gru_head(build: Callable, train: tuple, validation: tuple, test: tuple,
                         pooling_accuracy: float, epochs: int = 50, seed: int = 0) -> None:
    """Notebook 03: ``build(train_features, num_classes)`` must return a small, masked GRU head.

    The model must take ``(None, D)`` clips and give ``num_classes`` softmax
    probabilities, contain a ``GRU`` layer (and no ``LSTM``), have at most
    :data:`SMALL_HEAD_WEIGHTS` weights, and give a clip padded with zero frames
    the probabilities of the clip alone.  It is then trained as the notebook
    trains its heads (:func:`vidlab.train.fit`, early stopping on
    ``validation``) and must beat ``pooling_accuracy`` on ``test``.

    Parameters
    ----------
    build : callable
        The student's ``build_small_gru_head(train_features, num_classes)``.
    train, validation, test : tuple of (features, labels)
        ``(N, T, D)`` frame features and their integer labels.
    pooling_accuracy : float
        Max/min pooling's accuracy on ``test``: the number to beat.
    epochs, seed
        The training budget and seed, as in the notebook.
    """

    (x_train, y_train), (x_val, y_val), (x_test, y_test) = train, validation, test
    num_classes = int(max(y_train.max(), y_val.max(), y_test.max())) + 1

    def verify(model):
        _check_small_head_architecture(model, x_train.shape[1], x_train.shape[2], num_classes)
        config.seed_everything(seed)  # the same shuffling and dropout for every attempt
        training.fit(model, (x_train, y_train), (x_val, y_val), epochs=epochs, batch_size=64,
                     learning_rate=3e-3, log_every=0,
                     stopping=keras.callbacks.EarlyStopping(patience=10, min_delta=0.01))
        accuracy = float(np.mean(training.predict_probabilities(model, x_test).argmax(-1)
                                 == y_test))
        print(f"       your head: {model.count_params():,} weights, test accuracy "
              f"{accuracy:.3f} (max/min pooling: {pooling_accuracy:.3f})")
        assert accuracy > pooling_accuracy, (
            f"trained, your head reaches a test accuracy of {accuracy:.3f}, which does not "
            f"beat max/min pooling's {pooling_accuracy:.3f}"
        )

    check(
        "a GRU head of your own", lambda: build(x_train, num_classes), verify,
        hint="Masking first, then Normalization(mean=..., variance=...) fitted on "
        "train_features, a per-frame Dense(16, activation='tanh'), GRU(16) and "
        "Dense(num_classes, activation='softmax'): about 6,000 weights.",
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


def _rgb_conv(filters: int, kernel_size: int, strides: int, padding: str, seed: int):
    """A built RGB ``Conv2D`` with random weights: the layer a student's flow layer starts from."""

    conv = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                         activation="relu", name=f"rgb_conv_{seed}")
    conv.build((None, None, None, 3))
    rng = np.random.default_rng(seed)
    conv.set_weights([rng.normal(0, 0.5, conv.kernel.shape).astype(np.float32),
                      rng.normal(0, 0.5, filters).astype(np.float32)])
    return conv


def check_flow_conv(fn: Callable) -> None:
    """Notebook 04: ``fn(rgb_conv, length)``: the temporal stream's first layer, cross-modality.

    Expected: a ``keras.layers.Conv2D`` with ``rgb_conv``'s filters, kernel
    size, strides, padding and activation, built for ``2 * length`` input
    channels, whose kernel is ``rgb_conv``'s averaged over its three RGB input
    channels and repeated over the ``2 * length`` flow channels, and whose bias
    is ``rgb_conv``'s.  Checked on two RGB layers the student has never seen:
    layer type, kernel shape, number of weights, and the response to held-out
    flow stacks.
    """

    cases = [(_rgb_conv(6, 3, 1, "same", seed=6), 8), (_rgb_conv(4, 5, 2, "valid", seed=7), 3)]

    def attempt():
        return [fn(conv, length) for conv, length in cases]

    def verify(results):
        for (conv, length), result in zip(cases, results, strict=True):
            channels = 2 * length
            label = f"for a {conv.kernel_size[0]}x{conv.kernel_size[1]} RGB layer and L = {length}"
            assert isinstance(result, layers.Conv2D), (
                f"return a keras.layers.Conv2D layer, not {type(result).__name__}"
            )
            assert result.built, (
                f"{label}: build your layer for {channels} input channels before setting its "
                f"weights: layer.build((None, None, None, {channels}))"
            )
            kernel, bias = conv.get_weights()
            expected_kernel = np.repeat(kernel.mean(axis=2, keepdims=True), channels, axis=2)
            weights = result.get_weights()
            assert tuple(result.kernel.shape) == expected_kernel.shape, (
                f"{label}: the kernel should have shape {expected_kernel.shape} (kernel height, "
                f"width, 2L = {channels} flow channels, filters), yours has "
                f"{tuple(result.kernel.shape)}"
            )
            expected_count = expected_kernel.size + bias.size
            assert result.count_params() == expected_count, (
                f"{label}: the layer should have {expected_count} weights ({expected_kernel.size} "
                f"in its kernel, {bias.size} biases), yours has {result.count_params()}; "
                "keep the bias (use_bias=True)"
            )
            for setting in ("strides", "padding", "activation"):
                mine, theirs = result.get_config()[setting], conv.get_config()[setting]
                assert mine == theirs, (
                    f"{label}: use the RGB layer's {setting} ({theirs!r}); yours is {mine!r}"
                )
            assert not np.allclose(weights[0], 3 * expected_kernel, atol=1e-5), (
                f"{label}: you summed the three RGB filters; average them, or the layer's "
                "responses are three times too strong"
            )
            assert np.allclose(weights[0], expected_kernel, atol=1e-5), (
                f"{label}: every flow channel of the kernel should hold the mean of the R, G and "
                "B filters (largest difference "
                f"{np.abs(weights[0] - expected_kernel).max():.3g})"
            )
            assert np.allclose(weights[1], bias, atol=1e-6), (
                f"{label}: copy the RGB layer's bias; yours differs"
            )
            stacks = np.random.default_rng(length).uniform(-1, 1, (3, 12, 12, channels))
            stacks = stacks.astype(np.float32)
            reference = layers.Conv2D.from_config(conv.get_config())
            reference.build((None, None, None, channels))
            reference.set_weights([expected_kernel, bias])
            expect_array(result(stacks), np.asarray(reference(stacks)),
                         f"{label}, the response to held-out flow stacks", atol=1e-4)

    check(
        "the temporal stream's first layer", attempt, verify,
        hint="layers.Conv2D.from_config(rgb_conv.get_config()) copies the RGB layer's "
        "settings; build it for 2 * length channels, then set its weights: the kernel averaged "
        "over axis 2 (R, G, B) and repeated 2 * length times, and the bias.",
    )


def _tiny_stream(channels: int, num_classes: int, seed: int):
    """A small random image-to-softmax network standing in for a trained stream."""

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((8, 8, channels))
    x = layers.Conv2D(3, 3, activation="relu")(inputs)
    x = layers.GlobalAveragePooling2D()(x)
    return keras.Model(inputs, layers.Dense(num_classes, activation="softmax")(x))


def check_two_stream(fn: Callable) -> None:
    """Notebook 04: ``fn(spatial, temporal)``: both streams and their average, as one Keras model.

    Expected: a ``keras.Model`` with two inputs, the RGB frame then the flow
    stack, shaped like the streams' inputs; one output of one score per class,
    the ``layers.Average`` of the two streams' scores; no weights beyond the
    streams' own.  Checked on two small streams with held-out inputs.
    """

    classes, length = 5, 2
    spatial, temporal = _tiny_stream(3, classes, seed=8), _tiny_stream(2 * length, classes, seed=9)
    rng = np.random.default_rng(10)
    frames = rng.uniform(0, 1, (6, 8, 8, 3)).astype(np.float32)
    stacks = rng.uniform(-1, 1, (6, 8, 8, 2 * length)).astype(np.float32)

    def verify(model):
        assert isinstance(model, keras.Model), (
            f"return a keras.Model, not {type(model).__name__}"
        )
        assert len(model.inputs) == 2, (
            f"the model should take two inputs, the RGB frame and the flow stack; yours takes "
            f"{len(model.inputs)}"
        )
        shapes = [tuple(x.shape[1:]) for x in model.inputs]
        expected = [spatial.input_shape[1:], temporal.input_shape[1:]]
        assert shapes == expected, (
            f"the inputs should be the frame {expected[0]} and then the flow stack "
            f"{expected[1]}; yours are {shapes[0]} and {shapes[1]}"
        )
        assert tuple(model.output_shape[1:]) == (classes,), (
            f"the output should be one score per class, ({classes},); yours is "
            f"{tuple(model.output_shape[1:])} (did you concatenate the scores instead of "
            "averaging them?)"
        )
        streams = spatial.count_params() + temporal.count_params()
        assert model.count_params() == streams, (
            f"averaging adds no weights: the two streams have {streams:,}, your model "
            f"{model.count_params():,} (a layer that learns to combine the scores is the "
            "learned fusion, not the average)"
        )
        assert any(isinstance(layer, layers.Average) for layer in model.layers), (
            "combine the streams' scores with a keras.layers.Average() layer"
        )
        scores = np.asarray(model.predict([frames, stacks], verbose=0))
        expect_array(scores, (spatial.predict(frames, verbose=0)
                              + temporal.predict(stacks, verbose=0)) / 2,
                     "your model's scores on held-out inputs (the average of the streams')")

    check(
        "the two-stream network as one model", lambda: fn(spatial, temporal), verify,
        hint="one keras.Input per stream, shaped like that stream's input; call each stream "
        "on its input as you would call a layer, and average the two outputs with "
        "layers.Average().",
    )


# --------------------------------------------------------------------------- notebook 05


def _inflated_reference(conv_2d, kt: int):
    """The I3D inflation of ``conv_2d``: a built ``Conv3D``, the 2D kernel repeated over kt / kt."""

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
