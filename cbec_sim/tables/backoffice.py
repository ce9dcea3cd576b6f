"""Stage stub: being written (issue 5)."""


def build(ctx):
    return {}
