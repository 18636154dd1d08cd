"""Prometheus metrics: a collector over the running state, in a registry the app owns.

- tally.py: counts kept on the probe hot path (no prometheus_client objects there).
- snapshot.py: the SLA gauges, recomputed periodically off the event loop.
- collector.py: the metric families, built from the state at scrape time.
- exposition.py: the text format, rendered in a thread.

Kept import-light: monitoring.py imports tally.py from here.
"""
