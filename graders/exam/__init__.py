"""Exam mode (``cbec exam``): blueprints, parallel forms, self-contained exam packs,
server-side timing, secure grading and candidate reports for employers.

* :mod:`~graders.exam.blueprint` — blueprint YAML, validation against the item bank;
* :mod:`~graders.exam.forms` — parallel form assembly, ``build``, the server manifest;
* :mod:`~graders.exam.pack` — pack notebook and CSV data with a dtype schema;
* :mod:`~graders.exam.timing` — ``open`` / ``collect`` on the server clock;
* :mod:`~graders.exam.grade` — sandboxed grading with the kit hidden from the kernel;
* :mod:`~graders.exam.report` — candidate pages, CSV tables, cohort/form fairness summary;
* :mod:`~graders.exam.demo` — a small exam end to end on simulated candidates.
"""
