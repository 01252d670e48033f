"""Specification of vidlab.results: what notebooks measured, saved for the course table."""

import pytest

from vidlab import results


@pytest.fixture(autouse=True)
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path))


def test_recorded_results_are_read_back():
    results.record("LSTM", "03_cnn_rnn", 0.97125, params=1234, seconds=3.21)
    assert results.load() == {
        "LSTM": {"notebook": "03_cnn_rnn", "accuracy": 0.9712, "params": 1234, "seconds": 3.2}
    }


def test_recording_a_model_again_replaces_its_result():
    results.record("GRU", "03_cnn_rnn", 0.5)
    results.record("GRU", "03_cnn_rnn", 0.9)
    assert results.load()["GRU"]["accuracy"] == 0.9


def test_label_sets_are_kept_apart():
    results.record("spatial", "04_two_stream", 0.5, label_set="shape_motion")
    assert results.load("motion") == {}


def test_an_accuracy_given_in_percent_is_refused():
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        results.record("oops", "01_frame_features", 95.0)


def test_table_lists_models_in_notebook_order():
    results.record("I3D", "05_i3d", 0.99, params=10)
    results.record("pooling", "01_frame_features", 0.5)
    lines = results.table(results.load()).splitlines()
    assert lines[1].startswith("pooling") and lines[2].startswith("I3D")
    assert "0.500" in lines[1]


def test_table_columns_line_up_however_long_a_model_name_is():
    results.record("two-stream: temporal stream (cross-modality)", "04_two_stream", 0.964,
                   params=2_295_016, seconds=25.7)
    results.record("GRU", "03_cnn_rnn", 0.951, params=14_824)
    lines = results.table(results.load()).splitlines()
    starts = {line.index(key)
              for line, key in zip(lines[1:], ["03_cnn_rnn", "04_two_stream"], strict=True)}
    assert len(starts) == 1, "the notebook column starts at the same place on every row"
    assert lines[2].split()[-4:] == ["0.964", "2,295,016", "25.7", "s"]
    assert lines[1].endswith("14,824"), "a result without a training time leaves the column empty"
    assert lines[2].index("25.7 s") == lines[0].index("training"), "times start under the header"


def test_a_training_time_of_another_width_moves_no_other_column():
    results.record("I3D", "05_i3d", 0.8, params=208_838, seconds=73.5)
    short = results.table(results.load())
    results.record("I3D", "05_i3d", 0.8, params=208_838, seconds=125.3)
    long = results.table(results.load())

    assert short.replace("73.5 s", "T") == long.replace("125.3 s", "T")
