"""The `statuswatch` command line."""

from statuswatch.cli.main import main

__all__ = ["main"]
