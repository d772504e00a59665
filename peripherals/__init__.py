"""Device drivers (printers, ID-card readers, scanners, documents) with wire-level simulators.

Built in its own issue; this package depends on neither the server nor Kivy.
"""
