"""Development scripts of gridfield, not shipped: run them from the repository root."""
