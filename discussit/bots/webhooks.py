"""Outgoing webhooks: when a message mentions a bot that has a webhook, DiscussIt POSTs the
message to it as JSON, signed, and a `text/plain` answer becomes the bot's reply in the group.

Posting never waits for this: `offer` puts the message on a bounded queue (full: the delivery is
dropped and logged) and a few workers deliver. Requests only go to the URL staff entered, over
http(s), with a short deadline, no redirects, no proxy from the environment, and, unless
`WEBHOOKS_ALLOW_PRIVATE` is set, only to public addresses: the name is resolved once, every
address checked, and the connection made to that address (the name kept for Host and TLS), so
a name cannot be re-pointed between the check and the request. Messages by bots are not
offered (two bots cannot answer each other forever).

The signature: `X-DiscussIt-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>" with
the bot's signing secret>`; `X-DiscussIt-Delivery` is the delivery's id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import ssl
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cache
from urllib.parse import urlsplit

import httpx2 as httpx

from discussit import limits
from discussit.timeline.entries import Entry

log = logging.getLogger("discussit.webhooks")

QUEUE_SIZE = 256  # messages waiting for delivery; past it new ones are dropped (and logged)
WORKERS = 4
DEADLINE = 10.0  # seconds for a whole delivery, whatever the server drips
MAX_ANSWER = 64 * 1024  # bytes of a response read (an answer longer than a message is refused)
NAT64 = ipaddress.ip_network("64:ff9b::/96")
Resolver = Callable[[str, int], Awaitable[list[str]]]


class Refused(Exception):
    """The URL may not be called (its form, or where it leads); str() says why."""


def check_url(raw: str) -> str:
    """A webhook URL as staff type it: http(s), a host, no user or password. Refused."""
    url = raw.strip()
    if len(url) > 500:
        raise Refused("A webhook URL can be at most 500 characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise Refused("That is not a URL.") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("A webhook URL starts with https:// (or http://) and names a host.")
    if parts.username or parts.password:
        raise Refused("A webhook URL may not carry a user name or password.")
    if port == 0 or not url.isascii() or any(ch.isspace() for ch in url):
        raise Refused("That is not a URL.")
    try:
        httpx.URL(url)  # (what the request will be made with must take it too)
    except (httpx.InvalidURL, ValueError):
        raise Refused("That is not a URL.") from None
    return url


def _embedded_v4(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> object:
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in NAT64:
            return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
        return ip.ipv4_mapped or ip.sixtofour or (ip.teredo[1] if ip.teredo else ip)
    return ip


def is_public(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether an address is on the public internet (not loopback, private, link-local, CGNAT,
    multicast, reserved; nor one of those inside an IPv6 address)."""
    inner = _embedded_v4(ip)
    assert isinstance(inner, ipaddress.IPv4Address | ipaddress.IPv6Address)
    return inner.is_global and not (
        inner.is_multicast
        or inner.is_reserved
        or inner.is_private
        or inner.is_loopback
        or inner.is_link_local
        or inner.is_unspecified
    )


async def system_resolver(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), b"%d." % timestamp + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


@dataclass(frozen=True, slots=True)
class Answer:
    status: int
    text: str | None  # a text/plain answer to post as the bot's reply, if any


@cache
def _tls() -> ssl.SSLContext:
    """The TLS settings of every Sender in this process, made once: loading the system's
    certificates took about 30 ms, at every start of the app."""
    return httpx.create_ssl_context(trust_env=False)


class Sender:
    """Delivers one signed POST to a pinned address (see the module's notes)."""

    def __init__(self, allow_private: bool = False, resolver: Resolver = system_resolver) -> None:
        self.allow_private = allow_private
        self.resolver = resolver
        self.client = httpx.AsyncClient(
            follow_redirects=False,
            trust_env=False,
            verify=_tls(),
            timeout=httpx.Timeout(5.0, connect=3.0),
            limits=httpx.Limits(max_connections=20, max_keepalive_connections=0),
        )

    async def _pin(self, url: httpx.URL) -> str:
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            found = await self.resolver(url.host, port)
        except OSError:
            raise Refused(f"{url.host} could not be resolved") from None
        addresses = [ipaddress.ip_address(a.split("%")[0]) for a in found]
        if not addresses:
            raise Refused(f"{url.host} could not be resolved")
        if not self.allow_private and not all(is_public(a) for a in addresses):
            raise Refused(f"{url.host} leads to an address that is not public")
        return str(addresses[0])

    async def deliver(self, target: str, secret: str, body: bytes, delivery_id: str) -> Answer:
        """POST `body` to `target`. Raises Refused, or httpx/timeout errors."""
        url = httpx.URL(check_url(target))
        headers = {
            "Host": url.netloc.decode("ascii"),
            "Accept-Encoding": "identity",  # (the answer is read raw: nothing to decompress)
            "Content-Type": "application/json",
            "User-Agent": "DiscussIt-Webhook/1",
            "X-DiscussIt-Delivery": delivery_id,
            "X-DiscussIt-Signature": signature(secret, int(time.time()), body),
        }
        async with asyncio.timeout(DEADLINE):  # (resolving the name included)
            address = await self._pin(url)
            async with self.client.stream(
                "POST",
                url.copy_with(host=address),
                content=body,
                headers=headers,
                extensions={"sni_hostname": url.host},
            ) as response:
                got = bytearray()
                async for chunk in response.aiter_raw():
                    got += chunk
                    if len(got) > MAX_ANSWER:
                        break
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        plain = response.headers.get("content-encoding", "identity").lower() == "identity"
        text = None
        if 200 <= response.status_code < 300 and kind == "text/plain" and plain and got:
            text = bytes(got[:MAX_ANSWER]).decode("utf-8", errors="replace")
        return Answer(response.status_code, text)

    async def close(self) -> None:
        await self.client.aclose()


def payload(
    delivery_id: str, bot: dict[str, object], group: dict[str, object], entry: Entry, link: str
) -> bytes:
    """The JSON a bot's webhook gets for a message that mentions it (the exact bytes signed)."""
    return json.dumps(
        {
            "delivery": delivery_id,
            "bot": bot,
            "group": group,
            "author": {"id": entry.user_id, "name": entry.username},
            "seq": entry.seq,
            "text": entry.body,
            "created_at": entry.created_at.isoformat(),
            "permalink": link,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()


def new_delivery_id() -> str:
    return str(uuid.uuid4())


def answer_text(answer: Answer) -> str | None:
    """The bot's reply, if its answer is one that fits in a message."""
    if answer.text is None or not answer.text.strip():
        return None
    return answer.text if len(answer.text.strip()) <= limits.MESSAGE_MAX else None
