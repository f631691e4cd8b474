"""One TLS context for every HTTP client of the app.

Building a context loads the certificate store, about 20 ms on the UI thread. Each client of
httpx builds its own unless given one, and the engine starts several, so they share these.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def shared_ssl_context(trust_env: bool = True) -> ssl.SSLContext:
    """Return the context that verifies servers as httpx does by default. With ``trust_env``,
    the SSL_CERT_FILE and SSL_CERT_DIR environment variables choose the certificates."""
    return httpx.create_ssl_context(trust_env=trust_env)
