"""The checks of notebook 04's exercises pass the reference solutions and fail wrong answers.

The reference solutions are the files the notebook points students to
(``notebooks/solutions/04_two_stream/``); each check is also fed the likely
wrong answers, and must fail them with a message that says what is wrong.
"""


import keras
import numpy as np
import pytest
import solutions
from keras import layers

from vidlab import exercises


def solution(name: str, function: str):
    return solutions.solution("04_two_stream", name, function)


def failure(capsys) -> str:
    """The printed message of a check that must have failed."""
    out = capsys.readouterr().out
    assert out.startswith(f"[{exercises.FAIL}]"), out
    return out


def test_every_exercise_of_the_notebook_has_a_solution_file():
    assert sorted(p.name for p in (solutions.FOLDER / "04_two_stream").glob("*.py")) == [
        "flow_conv.py", "stack_flow.py", "two_stream.py"]


def test_shipped_stubs_are_reported_as_not_attempted(verdict):
    def stub(*args):
        raise NotImplementedError

    for checker in (exercises.check_stack_flow, exercises.check_flow_conv,
                    exercises.check_two_stream):
        checker(stub)
        assert verdict()[0] == exercises.TODO


# --------------------------------------------------------------------------- 1: stacking


def stack_right(fields, length, start):
    window = np.moveaxis(fields[start:start + length], 0, 2)
    return window.reshape(*window.shape[:2], 2 * length)


def stack_x_then_y(fields, length, start):
    window = fields[start:start + length]
    return np.concatenate([np.moveaxis(window[..., 0], 0, -1),
                           np.moveaxis(window[..., 1], 0, -1)], axis=-1)


def stack_off_by_one(fields, length, start):
    return stack_right(fields, length, start + 1) if start + 1 + length <= len(fields) else \
        stack_right(fields, length, start)


def test_stack_flow_check_passes_the_reference_solution(verdict):
    exercises.check_stack_flow(solution("stack_flow", "my_stack_flow"))
    assert verdict()[0] == exercises.PASS
    exercises.check_stack_flow(stack_right)
    assert verdict()[0] == exercises.PASS


def test_stack_flow_check_names_the_blocked_channel_order(capsys):
    exercises.check_stack_flow(stack_x_then_y)
    out = failure(capsys)
    assert "interleaves" in out and "hint" in out


def test_stack_flow_check_names_the_wrong_window(capsys):
    exercises.check_stack_flow(stack_off_by_one)
    assert "should come from fields 1..3" in failure(capsys)


def test_stack_flow_check_rejects_a_plain_reshape(capsys):
    exercises.check_stack_flow(
        lambda f, length, start: f[start:start + length].reshape(*f.shape[1:3], 2 * length))
    failure(capsys)


# --------------------------------------------------------------------------- 2: the flow layer


def flow_conv_with(kernel_of, bias_of=lambda bias: bias, channels_of=lambda length: 2 * length,
                   **changes):
    """A flow layer built from the RGB layer, with one thing done differently."""
    def build(rgb_conv, length):
        config = {**rgb_conv.get_config(), **changes}
        conv = layers.Conv2D.from_config(config)
        conv.build((None, None, None, channels_of(length)))
        kernel, bias = rgb_conv.get_weights()
        weights = [kernel_of(kernel, channels_of(length))]
        if conv.use_bias:
            weights.append(bias_of(bias))
        conv.set_weights(weights)
        return conv

    return build


def averaged(kernel, channels):
    return np.repeat(kernel.mean(axis=2, keepdims=True), channels, axis=2)


def test_flow_conv_check_passes_the_reference_solution(verdict):
    exercises.check_flow_conv(solution("flow_conv", "my_flow_conv"))
    assert verdict()[0] == exercises.PASS
    exercises.check_flow_conv(flow_conv_with(averaged))
    assert verdict()[0] == exercises.PASS


@pytest.mark.parametrize("wrong, message", [
    (flow_conv_with(lambda k, c: np.repeat(k.sum(axis=2, keepdims=True), c, axis=2)), "summed"),
    (flow_conv_with(lambda k, c: np.repeat(k[:, :, :1], c, axis=2)), "mean of the R, G and B"),
    (flow_conv_with(averaged, bias_of=np.zeros_like), "copy the RGB layer's bias"),
    (flow_conv_with(averaged, channels_of=lambda length: length), "2L = 16 flow channels"),
    (flow_conv_with(lambda k, c: k, channels_of=lambda length: 3), "2L = 16 flow channels"),
    (flow_conv_with(averaged, use_bias=False), "keep the bias"),
    (flow_conv_with(averaged, activation="linear"), "activation"),
    (flow_conv_with(averaged, padding="same"), "padding"),
])
def test_flow_conv_check_says_what_is_wrong(capsys, wrong, message):
    exercises.check_flow_conv(wrong)
    assert message in failure(capsys)


def test_flow_conv_check_wants_a_built_conv2d(capsys):
    exercises.check_flow_conv(lambda rgb_conv, length: layers.Conv2D.from_config(
        rgb_conv.get_config()))
    assert "build your layer for 16 input channels" in failure(capsys)
    exercises.check_flow_conv(lambda rgb_conv, length: layers.Dense(6))
    assert "keras.layers.Conv2D" in failure(capsys)


# --------------------------------------------------------------------------- 3: one model


def two_inputs(combine, swap=False):
    """A two-stream model whose scores are ``combine``-d; ``swap`` puts the flow input first."""
    def build(spatial, temporal):
        frame = keras.Input(spatial.input_shape[1:])
        stack = keras.Input(temporal.input_shape[1:])
        scores = combine(spatial(frame), temporal(stack))
        return keras.Model([stack, frame] if swap else [frame, stack], scores)

    return build


def test_two_stream_check_passes_the_reference_solution(verdict):
    exercises.check_two_stream(solution("two_stream", "my_two_stream"))
    assert verdict()[0] == exercises.PASS


@pytest.mark.parametrize("wrong, message", [
    (two_inputs(lambda s, t: layers.Concatenate()([s, t])), "concatenate"),
    (two_inputs(lambda s, t: layers.Maximum()([s, t])), "layers.Average()"),
    (two_inputs(lambda s, t: layers.Dense(5, activation="softmax")(
        layers.Concatenate()([s, t]))), "adds no weights"),
    (two_inputs(lambda s, t: layers.Average()([s, t]), swap=True), "then the flow stack"),
    (lambda spatial, temporal: spatial, "two inputs"),
    (lambda spatial, temporal: "model", "return a keras.Model"),
])
def test_two_stream_check_says_what_is_wrong(capsys, wrong, message):
    exercises.check_two_stream(wrong)
    assert message in failure(capsys)


def test_two_stream_check_compares_the_scores_on_held_out_inputs(capsys):
    """Right inputs, output, weights and layers, wrong numbers: a softmax too many."""
    exercises.check_two_stream(two_inputs(
        lambda s, t: layers.Activation("softmax")(layers.Average()([s, t]))))
    assert "scores on held-out inputs" in failure(capsys)
