"""Notebook checks: numbers from training within stated tolerances, everything else exactly."""

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from vidlab.tools.nbval_tolerance import parse_number, read_rules, reconcile

ROOT = Path(__file__).resolve().parent.parent

RULES = """
[kinds]
accuracy = 0.08
loss = 35%, 0.005
epoch = 10

[rule log]
regex = ^epoch +(?P<epoch>\\d+)  loss (?P<loss>\\d+\\.\\d+)$
key = epoch

[rule result]
regex = ^(?P<name>x)?test accuracy (?P<accuracy>\\d\\.\\d{3}) of (?P<accuracy_2>\\d\\.\\d{3})$
"""

LOG = "epoch {}  loss {}\n"


@pytest.fixture
def rules(tmp_path):
    path = tmp_path / "rules.cfg"
    path.write_text(RULES.replace("(?P<name>x)?", ""))
    return read_rules(path)


def same(stored, fresh, rules):
    return reconcile(stored, fresh, *rules) == stored


def test_the_course_rules_read_and_every_group_has_a_kind():
    kinds, rules = read_rules(ROOT / "nbval_tolerance.cfg")

    assert {"accuracy", "loss", "epoch"} <= kinds.keys()
    assert len(rules) > 10


MINI_I3D = ("--- inflated\n"
            "epoch   5  accuracy {}  loss {}  val_accuracy {}  val_loss {}\n"
            "best epoch 5 of 5 (val_loss {}), its weights restored; trained in T s\n")


def test_notebook_05s_two_numeric_paths_are_the_same_result_under_the_course_rules():
    rules = read_rules(ROOT / "nbval_tolerance.cfg")
    with_onednn = MINI_I3D.format("0.987", "0.137", "1.000", "0.023", "0.023")
    without = MINI_I3D.format("0.982", "0.178", "0.961", "0.109", "0.104")  # both measured

    assert same(with_onednn, without, rules)
    assert not same(with_onednn, MINI_I3D.format("0.982", "0.178", "0.961", "0.400", "0.390"),
                    rules)  # a loss a fifth of chance's ln 8 is another result


@pytest.mark.parametrize("text, value", [("0.938", 0.938), ("+0.76", 0.76), ("-1.30", -1.3),
                                         ("2,295,016", 2295016), ("35.7%", 35.7),
                                         ("2.3e-06", 2.3e-6)])
def test_numbers_are_read_as_printed(text, value):
    assert parse_number(text) == pytest.approx(value)


def test_an_accuracy_within_its_tolerance_is_the_same_result(rules):
    assert same("test accuracy 0.938 of 1.000\n", "test accuracy 0.914 of 0.990\n", rules)


def test_an_accuracy_beyond_its_tolerance_is_not(rules):
    fresh = "test accuracy 0.850 of 0.990\n"

    assert reconcile("test accuracy 0.938 of 1.000\n", fresh, *rules) == (
        "test accuracy 0.850 of 1.000\n")  # the one within tolerance is reconciled, not this


def test_a_relative_bound_scales_with_the_stored_value(rules):
    assert same(LOG.format(1, "2.823"), LOG.format(1, "3.311"), rules)  # 17 % more
    assert not same(LOG.format(1, "2.823"), LOG.format(1, "4.000"), rules)  # 42 % more
    assert same(LOG.format(1, "0.0021"), LOG.format(1, "0.0060"), rules)  # within 0.005


def test_words_around_the_numbers_are_compared_exactly(rules):
    assert not same("test accuracy 0.938 of 1.000\n", "test accuracy 0.938 of 1.000 \n", rules)
    assert not same("validation 0.938\n", "validation 0.937\n", rules)  # no rule captures it


def test_a_missing_optional_group_must_be_missing_in_both(tmp_path):
    path = tmp_path / "rules.cfg"
    path.write_text(RULES.replace("(?P<name>x)?", "(?P<accuracy_3>0\\.\\d{3} )?"))
    rules = read_rules(path)

    assert same("test accuracy 0.938 of 1.000\n", "test accuracy 0.930 of 1.000\n", rules)
    assert not same("test accuracy 0.938 of 1.000\n",
                    "0.500 test accuracy 0.930 of 1.000\n", rules)


def test_a_log_that_stops_a_few_epochs_later_is_the_same_run(rules):
    stored = LOG.format(5, "0.062") + LOG.format(10, "0.016") + LOG.format(13, "0.010")
    fresh = (LOG.format(5, "0.060") + LOG.format(10, "0.017") + LOG.format(15, "0.008")
             + LOG.format(17, "0.007"))

    assert same(stored, fresh, rules)


def test_a_log_is_another_run_if_a_shared_epoch_differs_or_it_stops_much_later(rules):
    stored = LOG.format(5, "0.062") + LOG.format(10, "0.016")

    assert not same(stored, LOG.format(5, "0.100") + LOG.format(10, "0.016"), rules)
    assert not same(stored, LOG.format(5, "0.062") + LOG.format(25, "0.016"), rules)


def test_every_kind_a_rule_captures_must_be_defined(tmp_path):
    path = tmp_path / "rules.cfg"
    path.write_text("[kinds]\naccuracy = 0.1\n[rule r]\nregex = loss (?P<loss>\\d+)\n")

    with pytest.raises(ValueError, match="defines no kind 'loss'"):
        read_rules(path)


def notebook_printing(text, stored):
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(f"print({text!r})", execution_count=1)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=stored + "\n")]
    nb.cells = [cell]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    return nb


def run_nbval(tmp_path, printed, stored):
    (tmp_path / "rules.cfg").write_text(RULES.replace("(?P<name>x)?", ""))
    nbformat.write(notebook_printing(printed, stored), tmp_path / "check.ipynb")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "vidlab.tools.nbval_tolerance", "--nbval",
         "--nbval-current-env", "--nbval-tolerance-with", "rules.cfg", "check.ipynb",
         "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path, capture_output=True, text=True, check=False)


def test_nbval_accepts_a_fresh_run_within_tolerance_and_rejects_one_beyond(tmp_path):
    stored = "test accuracy 0.938 of 1.000"

    within = run_nbval(tmp_path, "test accuracy 0.914 of 1.000", stored)
    beyond = run_nbval(tmp_path, "test accuracy 0.800 of 1.000", stored)

    assert within.returncode == 0, within.stdout
    assert beyond.returncode == 1
    assert "0.800" in beyond.stdout  # nbval shows what ran
