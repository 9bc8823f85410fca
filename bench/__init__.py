"""taskhub's benchmarks: `make bench` (or `python -m bench`) measures taskhub beside reference
systems it starts itself and prints one table. Scripts, not tests: nothing here imports tests/."""
