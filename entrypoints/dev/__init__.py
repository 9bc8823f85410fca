"""`taskhub dev`: the whole system on one machine, supervised from one terminal."""
