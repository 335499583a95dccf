# Generated from src/gridfield/_async/__init__.py by scripts/unasync.py: do not edit.
"""The async twin of gridfield: the source of truth for everything that does I/O."""
