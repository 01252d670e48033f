"""Repository-wide pytest hooks (they apply to tests/ and to nbval's notebooks)."""

import pytest

#: ``--nbval-tolerance-with FILE``: numbers that training produces are compared within the
#: tolerances that FILE states (``nbval_tolerance.cfg``), everything else exactly.
pytest_plugins = ("vidlab.tools.nbval_tolerance",)


def pytest_collectstart(collector: pytest.Collector) -> None:
    """Leave stderr out of nbval's comparison.

    Under pytest, ipykernel does not capture C-level stderr (TensorFlow's absl and
    oneDNN lines), while the stored outputs never contain it (they are stripped
    by ``make outputs``); what is compared is stdout and the rich outputs.
    """
    if collector.fspath and collector.fspath.ext == ".ipynb":
        collector.skip_compare += ("stderr",)
