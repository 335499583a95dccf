"""The async twin of gridfield: the source of truth for everything that does I/O."""
