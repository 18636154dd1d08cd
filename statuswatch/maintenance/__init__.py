"""Maintenance windows: expansion of one-off and recurring windows, and their edits."""
