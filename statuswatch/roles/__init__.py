"""How statuswatch runs as processes: the monitor role, the web role, and their supervisor.

The monitor role probes, decides, writes (the store's only writer) and notifies; the web role
serves the public site from the same database, read-only, and hands every write to the monitor.
`statuswatch run` supervises one monitor and `site.workers` web processes (README "Processes").
"""
