"""Several nodes on one PostgreSQL: the leader lease, its fence, and forwarding to the leader."""
