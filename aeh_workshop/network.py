"""Addresses people in the room can reach: the join URL behind the QR code."""
import ipaddress
import socket
from urllib.parse import urlsplit, urlunsplit

from flask import current_app, request

WILDCARDS = ("0.0.0.0", "::", "")


def public_url(path: str) -> str:
    """An absolute URL people in the room can open from their phones.

    PUBLIC_URL wins; otherwise the request's host, except that a loopback host
    (the projector opened on the server itself) is replaced by the LAN address
    when the server listens on every interface (python app.py's default).
    """
    base = current_app.config.get("PUBLIC_URL")
    if base:
        return base.rstrip("/") + path
    parts = urlsplit(request.host_url)
    host = parts.hostname or "localhost"
    if _is_loopback(host) and current_app.config.get("LISTEN_HOST", "0.0.0.0") in WILDCARDS:
        lan = lan_address()
        if lan:
            netloc = lan + (f":{parts.port}" if parts.port else "")
            return urlunsplit((parts.scheme, netloc, path, "", ""))
    return request.host_url.rstrip("/") + path


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def lan_address() -> str | None:
    """This machine's first non-loopback IPv4 address, if it has one (no packet sent)."""
    for address in _interface_addresses() + _hostname_addresses():
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def _interface_addresses() -> list[str]:
    """IPv4 addresses of the network interfaces (Linux SIOCGIFADDR)."""
    try:
        import fcntl
        import struct
        names = [name for _index, name in socket.if_nameindex()]
    except (ImportError, OSError):
        return []
    found = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for name in names:
            try:
                packed = fcntl.ioctl(sock.fileno(), 0x8915, struct.pack("256s", name[:15].encode()))
                found.append(socket.inet_ntoa(packed[20:24]))
            except OSError:
                continue
    return found


def _hostname_addresses() -> list[str]:
    try:
        return [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        return []
