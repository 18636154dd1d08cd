"""The public status site's view model: what `/`, `/components/<id>` and the customer page show.

Pure where it can be: `view.py` loads evidence once and hands timelines to `days.py` (90-day
bars), `targets.py` (windows, targets, plan credits) and `latency.py` (hourly p50/p95 chart).
"""
