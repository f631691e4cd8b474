"""Status of submitted jobs: the poller now; the webhook receiver and websocket later."""
