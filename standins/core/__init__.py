"""What every stand-in shares: the HTTP server, faults, rate limit, control API, state, fixtures."""
