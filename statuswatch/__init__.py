"""statuswatch: uptime monitor and status page for a commerce platform, with exact SLA math."""

__version__ = "0.1.0"
