"""Task types: plain functions with a pydantic model of their arguments, and their registry."""
