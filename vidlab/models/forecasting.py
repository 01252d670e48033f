"""Five LSTM forecasters for a univariate series, from the classic toy to ConvLSTM.

Every builder has the signature ``build_<name>(n_steps, units=50, ...)`` and
returns an uncompiled functional :class:`keras.Model` that maps one window of
``n_steps`` past values to the next value, shape ``(batch, 1)``.  They differ in
the layout they read the window in:

==================  ========================  =====================================
variant             input shape (per sample)  idea
==================  ========================  =====================================
vanilla_lstm        ``(n_steps, 1)``          one LSTM layer
stacked_lstm        ``(n_steps, 1)``          two LSTM layers
bidirectional_lstm  ``(n_steps, 1)``          an LSTM reading each way
cnn_lstm            ``(n_seq, n_sub, 1)``     a CNN per sub-sequence, then an LSTM
conv_lstm           ``(n_seq, 1, n_sub, 1)``  convolutions inside the LSTM's gates
==================  ========================  =====================================

For the last two the window is cut into ``n_seq`` sub-sequences of ``n_sub``
values each, so ``n_steps`` must equal ``n_seq * n_sub``.  :func:`reshape_for`
turns ``(N, n_steps)`` windows from :func:`vidlab.sequences.split_sequence`
into each layout.

As in the classic toy these come from, the LSTMs use ``relu`` where Keras
defaults to ``tanh``.  The toy series is not scaled (10, 20, ..., 90); with
``tanh`` the hidden state stays within (-1, 1) and the Dense head alone would
have to scale it up to values near 100.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import keras
import numpy as np
from keras import layers

from vidlab.config import seed_everything
from vidlab.sequences import split_sequence

#: Variants that read the window as ``n_seq`` sub-sequences.
SUBSEQUENCE_VARIANTS = ("cnn_lstm", "conv_lstm")
#: Sub-sequences per window when none is given (the classic toy: 4 steps as 2 x 2).
DEFAULT_N_SEQ = 2


def _sub_length(n_steps: int, n_seq: int) -> int:
    """Return ``n_sub = n_steps / n_seq``, or raise ValueError if it is not a whole number."""
    if n_seq < 1 or n_steps % n_seq:
        raise ValueError(
            f"n_steps must equal n_seq * n_sub: n_steps={n_steps} cannot be split into "
            f"n_seq={n_seq} sub-sequences of equal length."
        )
    return n_steps // n_seq


def build_vanilla_lstm(n_steps: int, units: int = 50) -> keras.Model:
    """One LSTM layer (relu activation, as in the classic toy) and a Dense(1) head.

    Parameters
    ----------
    n_steps
        Window length; the input is ``(batch, n_steps, 1)``.
    units
        Width of the LSTM.
    """
    inputs = keras.Input((n_steps, 1), name="window")
    hidden = layers.LSTM(units, activation="relu")(inputs)
    outputs = layers.Dense(1, name="next_value")(hidden)
    return keras.Model(inputs, outputs, name="vanilla_lstm")


def build_stacked_lstm(n_steps: int, units: int = 50) -> keras.Model:
    """Two LSTM layers (relu activation) and a Dense(1) head.

    The first layer returns its whole output sequence (``return_sequences=True``),
    so the second one has a sequence to read.  Input ``(batch, n_steps, 1)``.
    """
    inputs = keras.Input((n_steps, 1), name="window")
    sequence = layers.LSTM(units, activation="relu", return_sequences=True)(inputs)
    hidden = layers.LSTM(units, activation="relu")(sequence)
    outputs = layers.Dense(1, name="next_value")(hidden)
    return keras.Model(inputs, outputs, name="stacked_lstm")


def build_bidirectional_lstm(n_steps: int, units: int = 50) -> keras.Model:
    """An LSTM (relu activation) run forwards and backwards, both final states concatenated.

    Input ``(batch, n_steps, 1)``; the Dense(1) head reads ``2 * units`` features.
    """
    inputs = keras.Input((n_steps, 1), name="window")
    hidden = layers.Bidirectional(layers.LSTM(units, activation="relu"))(inputs)
    outputs = layers.Dense(1, name="next_value")(hidden)
    return keras.Model(inputs, outputs, name="bidirectional_lstm")


def build_cnn_lstm(
    n_steps: int,
    units: int = 50,
    n_seq: int = DEFAULT_N_SEQ,
    filters: int = 64,
    kernel_size: int = 1,
    pool_size: int = 2,
) -> keras.Model:
    """A small CNN applied to each sub-sequence, then an LSTM (relu) over their features.

    The window is read as ``n_seq`` sub-sequences of ``n_sub = n_steps // n_seq``
    values: input ``(batch, n_seq, n_sub, 1)``.  ``TimeDistributed`` applies the
    same Conv1D + MaxPooling1D + Flatten to every sub-sequence, turning the input
    into a sequence of ``n_seq`` feature vectors for the LSTM.

    Parameters
    ----------
    n_steps
        Window length, a multiple of ``n_seq``.
    units
        Width of the LSTM.
    n_seq
        Number of sub-sequences.
    filters, kernel_size
        Of the Conv1D (relu).
    pool_size
        Of the MaxPooling1D; at most ``n_sub - kernel_size + 1``.

    Raises
    ------
    ValueError
        If ``n_steps`` is not a multiple of ``n_seq``.
    """
    n_sub = _sub_length(n_steps, n_seq)
    inputs = keras.Input((n_seq, n_sub, 1), name="window")
    features = layers.TimeDistributed(
        layers.Conv1D(filters, kernel_size, activation="relu"), name="conv"
    )(inputs)
    features = layers.TimeDistributed(layers.MaxPooling1D(pool_size), name="pool")(features)
    features = layers.TimeDistributed(layers.Flatten(), name="flatten")(features)
    hidden = layers.LSTM(units, activation="relu")(features)
    outputs = layers.Dense(1, name="next_value")(hidden)
    return keras.Model(inputs, outputs, name="cnn_lstm")


def build_conv_lstm(
    n_steps: int,
    units: int = 50,
    n_seq: int = DEFAULT_N_SEQ,
    kernel_size: int = 2,
) -> keras.Model:
    """A ConvLSTM2D (relu) whose gates are convolutions, then Flatten and Dense(1).

    Each of the ``n_seq`` sub-sequences is one time step, shaped as a one-row
    image of ``n_sub`` pixels and one channel: input ``(batch, n_seq, 1, n_sub, 1)``.
    The kernel ``(1, kernel_size)`` slides along that row.

    Parameters
    ----------
    n_steps
        Window length, a multiple of ``n_seq``.
    units
        Number of ConvLSTM2D filters (the width of its state at each position).
    n_seq
        Number of sub-sequences.
    kernel_size
        Width of the ``(1, kernel_size)`` kernel; at most ``n_sub``.

    Raises
    ------
    ValueError
        If ``n_steps`` is not a multiple of ``n_seq``.
    """
    n_sub = _sub_length(n_steps, n_seq)
    inputs = keras.Input((n_seq, 1, n_sub, 1), name="window")
    hidden = layers.ConvLSTM2D(units, (1, kernel_size), activation="relu")(inputs)
    hidden = layers.Flatten()(hidden)
    outputs = layers.Dense(1, name="next_value")(hidden)
    return keras.Model(inputs, outputs, name="conv_lstm")


#: Every variant by name.
VARIANTS: dict[str, Callable[..., keras.Model]] = {
    "vanilla_lstm": build_vanilla_lstm,
    "stacked_lstm": build_stacked_lstm,
    "bidirectional_lstm": build_bidirectional_lstm,
    "cnn_lstm": build_cnn_lstm,
    "conv_lstm": build_conv_lstm,
}


def reshape_for(name: str, X: np.ndarray, n_seq: int | None = None) -> np.ndarray:
    """Reshape ``(N, n_steps)`` windows into the input layout of variant ``name``.

    Parameters
    ----------
    name
        A key of :data:`VARIANTS`.
    X
        Windows, shape ``(N, n_steps)``.
    n_seq
        Sub-sequences per window, for ``cnn_lstm`` and ``conv_lstm`` only
        (default :data:`DEFAULT_N_SEQ`).

    Returns
    -------
    np.ndarray
        float32, ``(N, n_steps, 1)`` for the three LSTM variants,
        ``(N, n_seq, n_sub, 1)`` for cnn_lstm, ``(N, n_seq, 1, n_sub, 1)`` for conv_lstm.

    Raises
    ------
    ValueError
        For an unknown variant, for ``X`` that is not 2-D, for ``n_seq`` given to a
        variant that does not use it, and when ``n_steps != n_seq * n_sub``.
    """
    if name not in VARIANTS:
        raise ValueError(f"Unknown variant {name!r}; expected one of {sorted(VARIANTS)}.")
    X = np.asarray(X, dtype=np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be 2-D windows (N, n_steps), got shape {X.shape}.")
    n, n_steps = X.shape
    if name not in SUBSEQUENCE_VARIANTS:
        if n_seq is not None:
            raise ValueError(f"n_seq applies only to {SUBSEQUENCE_VARIANTS}, not to {name!r}.")
        return X.reshape(n, n_steps, 1)
    n_seq = DEFAULT_N_SEQ if n_seq is None else n_seq
    n_sub = _sub_length(n_steps, n_seq)
    if name == "cnn_lstm":
        return X.reshape(n, n_seq, n_sub, 1)
    return X.reshape(n, n_seq, 1, n_sub, 1)


def _compile(model: keras.Model, learning_rate: float) -> None:
    """Compile ``model`` for forecasting: Adam at ``learning_rate``, mean squared error.

    Adam's slots are made here rather than in the first training step:
    TensorFlow traces a step that creates variables twice, which cost about
    40 % of the toy variants' training time.
    """
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss="mse")
    model.optimizer.build(model.trainable_variables)


def fit_forecaster(
    name: str,
    series: Iterable[float],
    n_steps: int = 3,
    epochs: int = 300,
    seed: int = 0,
    verbose: int = 0,
    n_seq: int | None = None,
    units: int = 50,
    learning_rate: float = 1e-3,
) -> tuple[keras.Model, keras.callbacks.History]:
    """Build variant ``name`` and train it on the windows of ``series``.

    The run is seeded with :func:`vidlab.config.seed_everything`, so the same
    arguments on the same machine give the same model.  Adam, mean squared
    error, Keras's default batch size of 32 (the toy series is a single batch).

    Parameters
    ----------
    name
        A key of :data:`VARIANTS`.
    series
        The univariate training series.
    n_steps
        Window length (for cnn_lstm / conv_lstm a multiple of ``n_seq``).
    epochs, verbose
        Passed to ``model.fit``.
    seed
        Seeds weight initialisation and shuffling.
    n_seq
        Sub-sequences per window, for cnn_lstm and conv_lstm only.
    units
        Width of the recurrent layer(s).
    learning_rate
        Of Adam; the default is Keras's.  On the toy series, where an epoch is a
        single step, 0.01 gets close in about 100 epochs instead of 300.

    Returns
    -------
    model : keras.Model
        The trained model.
    history : keras.callbacks.History
        Its training history (``history.history["loss"]``).
    """
    X, y = split_sequence(series, n_steps)
    X = reshape_for(name, X, n_seq)
    seed_everything(seed)
    # reshape_for has checked that only cnn_lstm and conv_lstm get an n_seq.
    layout = {} if n_seq is None else {"n_seq": n_seq}
    model = VARIANTS[name](n_steps, units, **layout)
    _compile(model, learning_rate)
    history = model.fit(X, y, epochs=epochs, verbose=verbose)
    return model, history


def forecast(model: keras.Model, name: str, window: Sequence[float]) -> float:
    """Return the value that ``model`` (of variant ``name``) predicts after ``window``.

    Parameters
    ----------
    model
        A model built by ``VARIANTS[name]``; the sub-sequence split is read from
        its input shape.
    name
        Its variant.
    window
        The last ``n_steps`` values of the series.

    Raises
    ------
    ValueError
        If ``window`` does not hold the ``n_steps`` values the model reads.
    """
    window = np.asarray(window, dtype=np.float32).reshape(1, -1)
    n_steps = int(np.prod(model.input_shape[1:]))
    if window.shape[1] != n_steps:
        raise ValueError(f"The model reads windows of {n_steps} values; got {window.shape[1]}.")
    n_seq = model.input_shape[1] if name in SUBSEQUENCE_VARIANTS else None
    prediction = model(reshape_for(name, window, n_seq), training=False)
    return float(keras.ops.convert_to_numpy(prediction)[0, 0])


def fit_forecaster_full_batch(
    name: str,
    series: Iterable[float],
    n_steps: int = 3,
    steps: int = 150,
    seed: int = 0,
    n_seq: int | None = None,
    units: int = 50,
    learning_rate: float = 0.01,
) -> tuple[keras.Model, np.ndarray]:
    """Like :func:`fit_forecaster`, but every update sees all the windows at once.

    Training is a loop of ``steps`` calls to ``model.train_on_batch`` on the
    whole set of windows.  On a short series (fewer windows than Keras's batch
    size of 32, like the toy) this is the same sequence of updates as
    ``fit_forecaster(..., epochs=steps)``, up to rounding, without the cost
    ``model.fit`` pays at every epoch: several times faster on a CPU.  On a
    longer series it is full-batch gradient descent (one update per pass over
    the data, where ``fit`` would make one per batch of 32).

    Parameters
    ----------
    name, series, n_steps, seed, n_seq, units
        As in :func:`fit_forecaster`.
    steps
        Number of updates (Adam steps).
    learning_rate
        Of Adam.

    Returns
    -------
    model : keras.Model
        The trained model.
    losses : np.ndarray
        The mean squared error of every step, shape ``(steps,)``, each measured
        on the weights before that step's update (what ``fit`` reports per epoch).
    """
    X, y = split_sequence(series, n_steps)
    X = reshape_for(name, X, n_seq)
    seed_everything(seed)
    layout = {} if n_seq is None else {"n_seq": n_seq}
    model = VARIANTS[name](n_steps, units, **layout)
    _compile(model, learning_rate)
    y = y.reshape(-1, 1)
    losses = np.array([float(model.train_on_batch(X, y)) for _ in range(steps)])
    return model, losses


def forecast_windows(
    model: keras.Model, name: str, windows: np.ndarray, n_seq: int | None = None
) -> np.ndarray:
    """Return the value ``model`` predicts after each of many windows.

    Parameters
    ----------
    model
        A model built by ``VARIANTS[name]``.
    name
        Its variant.
    windows
        ``(N, n_steps)``, e.g. the ``X`` of :func:`vidlab.sequences.split_sequence`.
    n_seq
        Sub-sequences per window, for cnn_lstm and conv_lstm (default: read from
        the model's input shape).

    Returns
    -------
    np.ndarray
        ``(N,)`` float32 predictions.
    """
    if n_seq is None and name in SUBSEQUENCE_VARIANTS:
        n_seq = model.input_shape[1]
    predictions = model(reshape_for(name, windows, n_seq), training=False)
    return keras.ops.convert_to_numpy(predictions)[:, 0]


def echo_series(
    length: int = 400, lag: int = 7, echo: float = 0.9, noise: float = 0.3, seed: int = 0
) -> np.ndarray:
    """A series whose every value echoes the one ``lag`` steps earlier, plus fresh noise.

    ``y[t] = echo * y[t - lag] + noise * e[t]`` with ``e[t]`` standard normal, a
    seasonal autoregression: with ``lag=7`` think of daily values that resemble
    the same weekday a week before.  The best possible one-step forecast is
    ``echo * y[t - lag]``; its error is the fresh noise, of standard deviation
    ``noise``.  The first ``lag`` values are drawn from the stationary spread,
    ``noise / sqrt(1 - echo**2)``.

    Parameters
    ----------
    length
        Number of values.
    lag
        How far back the echo reaches.
    echo
        Strength of the echo, ``|echo| < 1``.
    noise
        Standard deviation of the fresh noise.
    seed
        Of NumPy's generator.

    Returns
    -------
    np.ndarray
        ``(length,)`` float32.

    Raises
    ------
    ValueError
        If ``lag < 1``, ``length <= lag`` or ``|echo| >= 1``.
    """
    if lag < 1 or length <= lag:
        raise ValueError(f"Need lag >= 1 and length > lag, got lag={lag}, length={length}.")
    if not abs(echo) < 1:
        raise ValueError(f"|echo| must be below 1 for a stationary series, got {echo}.")
    rng = np.random.default_rng(seed)
    y = np.empty(length)
    y[:lag] = rng.normal(0.0, noise / np.sqrt(1.0 - echo**2), lag)
    fresh = rng.normal(0.0, noise, length)
    for t in range(lag, length):
        y[t] = echo * y[t - lag] + fresh[t]
    return y.astype(np.float32)
