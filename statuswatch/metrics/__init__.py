"""Prometheus metrics: families built at scrape time from the running state, in a registry the
app owns.

- family.py: the declaration table (name -> type, help, labels) and sample helpers.
- process.py, monitors.py, components.py, customers.py, scheduling.py, database.py,
  notifications.py, commitments.py: one module per group of families, each declaring its own.
- collector.py: the app's one collector, reading `Monitoring.snapshot()` and the others.
- snapshot.py: the SLA gauges, recomputed periodically off the event loop.
- exposition.py: the text format, rendered in a thread.

The per-result counts are monitoring's own record (monitor/tally.py): metrics reads monitor/,
never the other way round.
"""
