"""Settings, read from `TASKHUB_*` environment variables; instantiated only by the container."""
