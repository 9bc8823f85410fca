"""In-memory adapters of every port, for unit tests: small, honest, and state you can assert on."""
