"""Read-side queries shared by the HTML views and the REST API (no writes here)."""
