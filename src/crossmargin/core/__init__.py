"""The pure, deterministic core: stdlib only, no I/O, clock, randomness or logging."""
