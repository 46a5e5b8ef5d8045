"""Sphinx extension that renders the claims design from the reference model :mod:`spec`."""
