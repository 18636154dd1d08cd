"""Email subscribers: addresses, double opt-in, single-purpose tokens, and the rules around them."""
