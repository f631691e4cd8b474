"""One client per service (cmfy.cloud and, later, ComfyUI servers), with typed errors."""
