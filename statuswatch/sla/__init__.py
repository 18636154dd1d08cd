"""The SLA engine and its evidence: intervals, periods, availability, credits, reports."""
