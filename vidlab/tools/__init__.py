"""Tools around the course, not part of its lessons: nothing else in vidlab imports them.

* :mod:`vidlab.tools.course` runs the notebooks and renders them (``make run``,
  ``make outputs``) and runs a notebook's own definitions for tests;
* :mod:`vidlab.tools.slides` exports the notebooks to offline slides (``make slides``);
* :mod:`vidlab.tools.nbval_tolerance` lets nbval compare what training produces within the
  tolerances of ``nbval_tolerance.cfg`` (``make test``).
"""
