"""The web console at /ui: server-rendered pages over the same use cases as the REST API."""
