"""One module per use case; each exposes one class with an `execute` method."""
