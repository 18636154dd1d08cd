"""Secret tokens (hashed, compared in constant time) and rate limits on what strangers trigger."""
