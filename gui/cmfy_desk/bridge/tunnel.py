"""The tunnel URL: its rules, and a check that a request to it reaches the webhook receiver.

cmfy.cloud delivers webhooks only to public HTTPS URLs, so the user runs a tunnel (cloudflared,
ngrok, Tailscale Funnel...) whose public base URL forwards to the receiver on loopback. The
check sends one request to ``<public base>/hooks/<probe token>`` the way the service would, and
waits for the receiver to see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

from cmfy_desk.bridge.receiver import HOOK_PATH_PREFIX, WebhookReceiver
from cmfy_desk.tls import shared_ssl_context

log = logging.getLogger(__name__)

DEFAULT_CHECK_TIMEOUT = 10.0  # seconds
MAX_PUBLIC_BASE_URL_LENGTH = 1024
EXAMPLE_TUNNEL_URL = "https://example.trycloudflare.com"


@dataclass(frozen=True)
class TunnelCheck:
    """The result of one tunnel check; ``seconds`` is the round trip when the tunnel responded."""

    ok: bool
    seconds: float | None
    message: str


def normalize_public_base_url(text: str) -> str:
    """Return the base URL as hook URLs are built from it: trimmed, without a trailing slash."""
    return text.strip().rstrip("/")


def hook_url(public_base_url: str, token: str) -> str:
    """Return the webhook URL of one token under the tunnel's public base URL."""
    return normalize_public_base_url(public_base_url) + HOOK_PATH_PREFIX + token


def validate_public_base_url(text: str) -> str | None:
    """Return None for a usable tunnel base URL, else a message saying what is wrong.

    cmfy.cloud requires https to a public host. Plain http is accepted for a loopback host
    only, because the sandbox delivers there.
    """
    url = normalize_public_base_url(text)
    if not url:
        return (
            "The tunnel URL is empty. Enter the public URL your tunnel shows, such as "
            f"{EXAMPLE_TUNNEL_URL}."
        )
    if len(url) > MAX_PUBLIC_BASE_URL_LENGTH:
        return (
            f"The tunnel URL is {len(url)} characters long; the maximum is "
            f"{MAX_PUBLIC_BASE_URL_LENGTH}. Enter the base URL your tunnel shows."
        )
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        _ = parts.port
    except ValueError as exc:
        return f"The tunnel URL {url!r} is invalid ({exc}). Enter it as {EXAMPLE_TUNNEL_URL}."
    if parts.scheme not in ("http", "https") or not host:
        return f"The tunnel URL {url!r} is not a web address. Enter it as {EXAMPLE_TUNNEL_URL}."
    if parts.query or parts.fragment:
        return (
            f"The tunnel URL {url!r} has a query or fragment (after ? or #). Enter only the "
            "base URL: Cmfy Desk adds /hooks/<token> to it."
        )
    if parts.username is not None or parts.password is not None:
        return f"The tunnel URL {url!r} contains a user name or password. Enter it without them."
    loopback = _is_loopback(host)
    if parts.scheme == "http":
        if loopback:
            return None
        return (
            f"The tunnel URL {url!r} uses http. cmfy.cloud sends webhooks to https URLs only: "
            "use the https address your tunnel shows."
        )
    if loopback or _is_private_address(host):
        return (
            f"The tunnel URL {url!r} points to a local or private address, which cmfy.cloud "
            "does not send webhooks to. Enter the public https URL your tunnel shows."
        )
    return None


async def check_tunnel(
    public_base_url: str,
    receiver: WebhookReceiver,
    *,
    timeout: float = DEFAULT_CHECK_TIMEOUT,
    transport: httpx.AsyncBaseTransport | None = None,
) -> TunnelCheck:
    """POST a small JSON body through the tunnel and wait until the receiver gets it.

    ``timeout`` bounds the whole check in seconds. The result's message describes what
    happened and what to do, and the check never raises for network errors.
    """
    problem = validate_public_base_url(public_base_url)
    if problem is not None:
        return TunnelCheck(False, None, problem)
    try:
        local_url = receiver.local_url
    except RuntimeError:
        return TunnelCheck(
            False, None, "The webhook receiver is not running, so no tunnel can reach it."
        )
    base = normalize_public_base_url(public_base_url)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    token, arrival = receiver.issue_probe()
    started = time.monotonic()
    try:
        response = await _post_probe(hook_url(base, token), timeout, transport)
        round_trip = time.monotonic() - started
        if not arrival.done():
            # A tunnel may respond before it forwards the request, so wait the rest of the time.
            remaining = max(0.0, deadline - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.shield(arrival), remaining)
    except httpx.TimeoutException:
        return _result_after_timeout(base, local_url, receiver.port, timeout, arrival)
    except httpx.HTTPError as exc:
        log.info("Tunnel check of %s failed: %s", base, exc)
        return TunnelCheck(
            False,
            None,
            f"The tunnel at {base} did not answer ({_describe(exc)}). Check that the tunnel "
            f"program is running and forwards to {local_url}.",
        )
    finally:
        if not arrival.done():
            arrival.cancel()

    reached = arrival.done() and not arrival.cancelled()
    if not response.is_success:
        where = "The request reached Cmfy Desk, but the" if reached else "The"
        return TunnelCheck(
            False,
            round_trip,
            f"{where} tunnel at {base} returned HTTP {response.status_code}"
            f"{_reason(response)}. Check that it forwards {base} to {local_url}.",
        )
    if not reached:
        return TunnelCheck(
            False,
            round_trip,
            f"Nothing reached the receiver on port {receiver.port} within {timeout:g} s, although "
            f"something at {base} responded: check that your tunnel forwards {base} to "
            f"{local_url}.",
        )
    return TunnelCheck(
        True,
        round_trip,
        f"The tunnel answered in {round_trip:.2f} s and the request reached Cmfy Desk.",
    )


async def _post_probe(
    url: str, timeout: float, transport: httpx.AsyncBaseTransport | None
) -> httpx.Response:
    host = urlsplit(url).hostname or ""
    # Proxy variables must not route a loopback request elsewhere; a public tunnel URL may need
    # the user's proxy, like any other request of the app.
    trust_env = not _is_loopback(host)
    async with httpx.AsyncClient(
        timeout=timeout,
        follow_redirects=False,
        trust_env=trust_env,
        verify=shared_ssl_context(trust_env),
        transport=transport,
    ) as client:
        return await client.post(url, json={"probe": True})


def _result_after_timeout(
    base: str, local_url: str, port: int, timeout: float, arrival: asyncio.Future[float]
) -> TunnelCheck:
    if arrival.done() and not arrival.cancelled():
        return TunnelCheck(
            False,
            None,
            f"The request reached Cmfy Desk, but the tunnel at {base} did not pass the answer "
            f"back within {timeout:g} s. Restart the tunnel program.",
        )
    return TunnelCheck(
        False,
        None,
        f"Nothing reached the receiver on port {port} within {timeout:g} s: check that your "
        f"tunnel forwards {base} to {local_url}.",
    )


def _describe(exc: httpx.HTTPError) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _reason(response: httpx.Response) -> str:
    return f" {response.reason_phrase}" if response.reason_phrase else ""


def _is_loopback(host: str) -> bool:
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _is_private_address(host: str) -> bool:
    """Return True for an IP address literal that is not reachable from the internet."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return not address.is_global
