"""Notifications: the outbox fan-out, message building, and the channels that deliver them."""
