"""The `taskhub` command-line client: login and tasks over the REST API, nothing of the server."""
