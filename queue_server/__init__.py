"""Queue server: halls, tickets, windows, calling, the hall event stream and auth."""
