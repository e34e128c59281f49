"""Talking HTTP to the API: retrying sessions, page checks, URL handling, the connection probe."""
