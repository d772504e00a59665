"""Touchscreen kiosk (Kivy): taking a number, check-in, self-submission. Built in its own issue."""
