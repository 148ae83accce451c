"""The JSON REST API, versioned by URL prefix."""
