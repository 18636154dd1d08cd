"""From a schedule to confirmed states: scheduler, tracker, events, the monitoring runtime."""
