"""Incidents: what people read. Model, automatic lifecycle, severities. Pure; the store persists."""
