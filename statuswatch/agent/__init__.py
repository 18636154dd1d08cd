"""The agent: probes a location's monitors where it runs and uploads the results (README)."""
