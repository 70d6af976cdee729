"""URLs a worker is handed: hiding their passwords, and whether one lies inside a store.

`redact` masks the password of any URL (Redis, an sftp store) before it reaches a message or a
log. `under_store` is the rule for store URLs that jobs name (`workers.artifacts`): a URL is
accepted only under one of the given stores (same scheme, same host with its user and port, the
store's path or a folder below it) and never with a `..` or `.` path part, whether written out
or percent-encoded at any depth (`dot_part`); fsspec chaining (`::`), queries and fragments are
refused as well, as nothing a store needs. Kept apart from `workers.settings` (which validates
the `artifact_stores` setting with it) and `workers.artifacts` (which opens the stores), so
neither imports the other.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import unquote, urlsplit, urlunsplit

MAX_DECODES = 8
"""Percent-decoding rounds before a name counts as deliberately obscured (and is refused)."""


def redact(url: str) -> str:
    """The URL with its password replaced by ***, for messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def is_url(location: str) -> bool:
    """True for a store URL (fsspec opens it), False for a plain path on this box."""
    return "://" in location or "::" in location


def decoded(text: str) -> str | None:
    """`text` percent-decoded until nothing changes; None past MAX_DECODES rounds."""
    for _ in range(MAX_DECODES):
        plain = unquote(text)
        if plain == text:
            return text
        text = plain
    return None


def dot_part(location: str) -> bool:
    """True when the path of `location` has a `..` or `.` part, also percent-encoded (at any
    depth: `%2e%2e`, `%252e%252e`), or is encoded deeper than any store name needs."""
    path = decoded(urlsplit(location).path if is_url(location) else location)
    return path is None or any(part in (".", "..") for part in path.split("/"))


def under_store(url: str, stores: Sequence[str]) -> str | None:
    """Why `url` is not inside one of `stores`, or None when it is (see the module)."""
    if "::" in url:
        return "fsspec URL chaining ('::') is not accepted"
    parts = urlsplit(url)
    if parts.query or parts.fragment:
        return "a query or fragment is not accepted"
    if dot_part(url):
        return "it has a '..' or '.' path part"
    path = (decoded(parts.path) or "").rstrip("/")
    for store in stores:
        if not is_url(store) or "::" in store or dot_part(store):
            continue
        allowed = urlsplit(store)
        base = (decoded(allowed.path) or "").rstrip("/")
        if (
            allowed.scheme.lower() == parts.scheme.lower()
            and allowed.netloc.lower() == parts.netloc.lower()
            and (path == base or path.startswith(base + "/"))
        ):
            return None
    return "it is not under a store the worker's settings name"
