"""Assessment analytics behind ``cbec report`` (issue 10): the computation layer and exports.

* :mod:`~graders.analytics.scores` — long item-score table from an nbgrader gradebook,
  submission totals, practice telemetry (``.cbec/attempts.jsonl``);
* :mod:`~graders.analytics.items` — item analysis: facility, point-biserial, corrected
  item-total, upper–lower 27 % index, Cronbach's α and α-if-item-deleted, flags, most frequent
  known mistakes (from the audit records);
* :mod:`~graders.analytics.competency` — per-trainee points and mastery per stage, Table 1
  task and competency unit, missed items with the mistake and where to revisit; the cohort's
  trainees × stages mastery matrix;
* :mod:`~graders.analytics.export` — Moodle and Canvas grade CSVs, long CSV/Parquet.

Pure pandas/numpy: no plotting and no HTML here (the report pages build on these tables).
"""
