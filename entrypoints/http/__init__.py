"""The REST API: thin routes that translate HTTP to use-case calls and back."""
