"""Cmfy Desk: run ComfyUI workflows in batches on cmfy.cloud or a ComfyUI server."""

__version__ = "0.1.0"
APP_NAME = "Cmfy Desk"
APP_ID = "cmfy-desk"
