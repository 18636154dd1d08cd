"""What the tests share besides fixtures: configs, servers to probe, rigs, seeds, checkers."""
