"""Fixtures shared by the tests of several modules."""

from collections.abc import Callable

import pytest


@pytest.fixture
def verdict(capsys) -> Callable[[], tuple[str, str]]:
    """What the last exercise check printed: ``(verdict, text)``, e.g. ``("FAIL", "[FAIL] ...")``.

    Every checker of ``vidlab.exercises`` prints one line that starts with its verdict in
    brackets (``[PASS]``, ``[FAIL]`` or ``[TODO]``) and goes on with what is right or wrong.
    """

    def read() -> tuple[str, str]:
        out = capsys.readouterr().out
        return out.split("]")[0].lstrip("["), out

    return read
