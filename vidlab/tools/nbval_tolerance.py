"""Compare numbers that training produces within stated tolerances, everything else exactly.

nbval compares a notebook's fresh outputs with its stored ones character by
character.  Anything computed without training (data, shapes, parameter
counts, the dataset's size) repeats exactly on every machine and stays
compared that way.  What training produces does not: the same seeded run
gives other float results on another CPU, or with oneDNN's kernels off, and
its accuracies and losses move in their last digits, sometimes further.

This pytest plugin lets nbval accept such a run as the same result.  A file
of rules (``--nbval-tolerance-with nbval_tolerance.cfg``, the one place where
tolerances are stated) names the *kinds* of numbers and how far a fresh run
may move each one from the stored output, and the patterns in which they are
printed.  Before nbval compares a cell, every number that a rule captures in
the fresh output and that lies within its kind's tolerance of the stored
number is given the stored number's text; everything else, the text around
the captured numbers included, is left as it ran.  nbval's strict comparison
then passes, or fails and shows both outputs.

The rules file is read with :mod:`configparser` (no interpolation):

``[kinds]``
    ``kind = bound[, bound]``: a bound is an absolute difference (``0.08``) or
    a percentage of the stored value (``35%``); a number is within tolerance
    if it is within any of its kind's bounds.
``[rule NAME]``
    ``regex``: a pattern, matched line by line (``re.MULTILINE``), whose
    named groups capture numbers; a group's kind is its name without a
    trailing ``_<digits>`` (``accuracy_2`` is an ``accuracy``).
    ``key`` (optional): the group that numbers successive lines of a training
    log (the epoch).  A log that early stopping ends sooner or later is still
    the same result if its last key is within that kind's tolerance: the lines
    of keys that both runs printed are compared, and the others are not.
"""

from __future__ import annotations

import configparser
import os
import re
from collections import defaultdict
from dataclasses import dataclass

import pytest

_SUFFIX = re.compile(r"_\d+$")


@dataclass(frozen=True)
class Kind:
    """A kind of number and the bounds within which two runs give the same result."""

    name: str
    absolute: float | None = None
    relative: float | None = None

    def accepts(self, stored: float, fresh: float) -> bool:
        """Whether ``fresh`` is the same result as ``stored``."""
        difference = abs(fresh - stored)
        return (self.absolute is not None and difference <= self.absolute) or (
            self.relative is not None and difference <= self.relative * abs(stored))


@dataclass(frozen=True)
class Rule:
    """A pattern whose named groups capture numbers of known kinds."""

    name: str
    regex: re.Pattern
    key: str | None = None


def kind_of(group: str) -> str:
    """The kind a regex group captures: its name without a trailing ``_<digits>``."""
    return _SUFFIX.sub("", group)


def parse_number(text: str) -> float:
    """``"2,295,016"``, ``"+0.76"``, ``"35.7%"`` or ``"2.3e-06"`` as a float."""
    return float(text.replace(",", "").rstrip("%"))


def _bounds(kind: str, value: str) -> Kind:
    absolute = relative = None
    for bound in (part.strip() for part in value.split(",")):
        if bound.endswith("%"):
            relative = float(bound[:-1]) / 100
        else:
            absolute = float(bound)
    return Kind(kind, absolute, relative)


def read_rules(path: str | os.PathLike) -> tuple[dict[str, Kind], list[Rule]]:
    """The kinds and rules of a tolerance file; see the module docstring for its format.

    Raises
    ------
    ValueError
        If a rule's group names a kind that ``[kinds]`` does not define, or a
        ``key`` that is not one of its groups.
    """
    parser = configparser.ConfigParser(interpolation=None)
    with open(path, encoding="utf-8") as file:
        parser.read_file(file)
    kinds = {name: _bounds(name, value) for name, value in parser["kinds"].items()}
    rules = []
    for section in parser.sections():
        if not section.startswith("rule "):
            continue
        regex = re.compile(parser[section]["regex"].strip(), re.MULTILINE)
        key = parser[section].get("key")
        for group in regex.groupindex:
            if kind_of(group) not in kinds:
                raise ValueError(f"{path}: [{section}] captures '{group}', but [kinds] defines "
                                 f"no kind '{kind_of(group)}' (it has {sorted(kinds)})")
        if key is not None and key not in regex.groupindex:
            raise ValueError(f"{path}: [{section}] has key = {key}, which is not one of its "
                             f"groups {sorted(regex.groupindex)}")
        rules.append(Rule(section[len("rule "):], regex, key))
    return kinds, rules


def _same_number(kinds: dict[str, Kind], group: str, stored: str | None,
                 fresh: str | None) -> bool:
    """Whether a group captured the same result in both runs (or nothing in either)."""
    if stored is None or fresh is None:
        return stored is fresh
    return kinds[kind_of(group)].accepts(parse_number(stored), parse_number(fresh))


def _same_numbers(stored: re.Match, fresh: re.Match, kinds: dict[str, Kind],
                  skip: str | None = None) -> bool:
    return all(_same_number(kinds, group, stored[group], fresh[group])
               for group in stored.re.groupindex if group != skip)


def _replace(text: str, spans: list[tuple[int, int, str]]) -> str:
    for start, end, new in sorted(spans, reverse=True):
        text = text[:start] + new + text[end:]
    return text


def _runs(matches: list[re.Match], text: str) -> list[list[re.Match]]:
    """Split matches into runs of lines that follow each other with nothing in between."""
    runs: list[list[re.Match]] = []
    for match in matches:
        if runs and text[runs[-1][-1].end():match.start()] == "\n":
            runs[-1].append(match)
        else:
            runs.append([match])
    return runs


def _reconcile_log(rule: Rule, stored: str, fresh: str, kinds: dict[str, Kind]
                   ) -> list[tuple[int, int, str]]:
    stored_runs = _runs(list(rule.regex.finditer(stored)), stored)
    fresh_runs = _runs(list(rule.regex.finditer(fresh)), fresh)
    if len(stored_runs) != len(fresh_runs):
        return []
    spans = []
    key_kind = kinds[kind_of(rule.key)]
    for stored_run, fresh_run in zip(stored_runs, fresh_runs, strict=True):
        stored_lines = {int(m[rule.key]): m for m in stored_run}
        fresh_lines = {int(m[rule.key]): m for m in fresh_run}
        common = stored_lines.keys() & fresh_lines.keys()
        last_stored, last_fresh = int(stored_run[-1][rule.key]), int(fresh_run[-1][rule.key])
        if (common and key_kind.accepts(last_stored, last_fresh)
                and all(_same_numbers(stored_lines[k], fresh_lines[k], kinds, rule.key)
                        for k in common)):
            spans.append((fresh_run[0].start(), fresh_run[-1].end(),
                          stored[stored_run[0].start():stored_run[-1].end()]))
    return spans


def _reconcile_numbers(rule: Rule, stored: str, fresh: str, kinds: dict[str, Kind]
                       ) -> list[tuple[int, int, str]]:
    stored_matches = list(rule.regex.finditer(stored))
    fresh_matches = list(rule.regex.finditer(fresh))
    if len(stored_matches) != len(fresh_matches):
        return []
    spans = []
    for old, new in zip(stored_matches, fresh_matches, strict=True):
        for group in rule.regex.groupindex:
            if new[group] is not None and _same_number(kinds, group, old[group], new[group]):
                spans.append((*new.span(group), old[group]))
    return spans


def reconcile(stored: str, fresh: str, kinds: dict[str, Kind], rules: list[Rule]) -> str:
    """``fresh`` with every captured number that is within tolerance written as in ``stored``.

    Rules apply one after the other, each to the text the previous ones left.
    A rule that matches a different number of times in the two texts changes
    nothing (the outputs differ in more than numbers, and nbval says so).
    """
    for rule in rules:
        reconcile_rule = _reconcile_log if rule.key else _reconcile_numbers
        fresh = _replace(fresh, reconcile_rule(rule, stored, fresh, kinds))
    return fresh


def _texts(outputs: list) -> dict[str, list[tuple[dict, str]]]:
    """Each output's text fields, keyed as nbval keys them (stream name or MIME type)."""
    texts = defaultdict(list)
    for output in outputs:
        if output.get("output_type") == "stream":
            texts[output["name"]].append((output, "text"))
        for mime, value in output.get("data", {}).items():
            if mime.startswith("text/") and isinstance(value, str):
                texts[mime].append((output["data"], mime))
    return texts


def reconcile_outputs(stored: list, fresh: list, kinds: dict[str, Kind],
                      rules: list[Rule]) -> None:
    """Reconcile, in place, the text of every fresh output with its stored counterpart."""
    stored_texts = _texts(stored)
    for key, fields in _texts(fresh).items():
        counterparts = stored_texts.get(key, [])
        if len(counterparts) != len(fields):
            continue
        for (holder, field), (old_holder, old_field) in zip(fields, counterparts, strict=True):
            holder[field] = reconcile(old_holder[old_field], holder[field], kinds, rules)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("nbval").addoption(
        "--nbval-tolerance-with", metavar="FILE",
        help="rules for numbers that training produces: compared within tolerances "
             "(vidlab.tools.nbval_tolerance)")


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("nbval_tolerance_with", None)
    if not path or not config.pluginmanager.hasplugin("nbval"):
        return
    from nbval.plugin import IPyNbCell

    kinds, rules = read_rules(path)
    compare = IPyNbCell.compare_outputs

    def compare_within_tolerance(cell, test, ref, skip_compare=None):
        reconcile_outputs(ref, test, kinds, rules)
        return compare(cell, test, ref, skip_compare)

    config.add_cleanup(lambda: setattr(IPyNbCell, "compare_outputs", compare))
    IPyNbCell.compare_outputs = compare_within_tolerance
