"""Reading DAG files: discovery, isolated import, serialization, storage."""
