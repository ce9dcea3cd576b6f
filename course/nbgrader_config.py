"""nbgrader configuration of the cbec course (plain `nbgrader` commands work from this folder)."""

c = get_config()  # noqa: F821  (provided by nbgrader/traitlets when the file is loaded)

c.CourseDirectory.course_id = "cbec-store-operations"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# Trainee datasets and the course's own files travel with each assignment.
c.CourseDirectory.include = ["*.parquet", "*.csv", "*.md", "*.json", "*.png"]

# Stubs left in released notebooks (Chinese for trainees, English term in brackets).
c.ClearSolutions.code_stub = {
    "python": "# 在这里写你的代码 (YOUR CODE HERE)",
}
c.ClearSolutions.text_stub = "在这里写下你的答案 (YOUR ANSWER HERE)"

# Executing a notebook for autograding: generous but bounded.
c.ExecutePreprocessor.timeout = 120
c.ExecutePreprocessor.interrupt_on_timeout = True

# A trainee who deletes a hidden-test cell gets it back at autograde (scored, not flagged).
c.OverwriteCells.add_missing_cells = True
