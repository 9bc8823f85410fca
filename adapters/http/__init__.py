"""Outbound HTTP: the webhook sender and its address guard."""
