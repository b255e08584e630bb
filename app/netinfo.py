"""The addresses tablets on the LAN can use to reach this machine.

Read from the network interfaces themselves (no packet is sent): the embedded
deployment has no internet and often no DNS.
"""

from __future__ import annotations

import fcntl
import socket
import struct

_SIOCGIFADDR = 0x8915


def lan_addresses() -> list[str]:
    addresses: list[str] = []
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for _index, name in socket.if_nameindex():
            packed = struct.pack("256s", name.encode()[:15])
            try:
                raw = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, packed)
            except OSError:
                continue  # interface without IPv4
            address = socket.inet_ntoa(raw[20:24])
            if not address.startswith("127.") and address not in addresses:
                addresses.append(address)
    return addresses


def server_urls(host: str, port: int) -> list[str]:
    """URLs to type into ODK Collect's server setting, best first."""
    if host not in ("0.0.0.0", "", "::"):  # noqa: S104 - comparing, not binding
        return [f"http://{host}:{port}"]
    urls = [f"http://{address}:{port}" for address in lan_addresses()]
    return urls or [f"http://127.0.0.1:{port}"]
