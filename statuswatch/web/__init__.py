"""The HTTP side: app factory, pages, API, push receiver, health."""

from statuswatch.web.app import create_app

__all__ = ["create_app"]
