"""Campaign Reporter."""
