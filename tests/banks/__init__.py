"""Bank stage tests that need no API server or command line."""
