"""Pydantic request and response schemas: the API's contract, kept apart from the entities."""
