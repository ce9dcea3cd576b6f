"""Stub: filled in by its owner."""


def build(ctx):
    return {}
