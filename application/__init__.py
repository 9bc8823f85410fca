"""taskhub's use cases and the ports they need. Imports the domain and the standard library only."""
