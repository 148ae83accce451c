"""flowsched."""
