"""cases (placeholder; being written)."""
