"""Dakoku kiosk time recorder."""
__version__ = "0.1.0"
