"""Lobby and window display boards fed by the hall event stream. Built in its own issue."""
