"""graders — exercises, grading, analytics and the ``cbec`` command for the cbec course kit.

Depends on :mod:`cbec_sim`, never the reverse.
"""

__version__ = "0.1.0"
