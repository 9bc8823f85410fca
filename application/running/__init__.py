"""One run of a task, from the claim to the stored outcome: the worker's side of the product."""
