"""feedback (placeholder; being written)."""
