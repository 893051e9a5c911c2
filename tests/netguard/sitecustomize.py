"""Refuse every network connection that does not stay on this machine.

Put this folder on PYTHONPATH (tests/conftest.py does so for pytest and for every kernel the
tests start) and any accidental download fails at once and loudly, instead of passing on a
machine that happens to be online. Loopback and Unix sockets (Jupyter kernels talk over them)
keep working.
"""

import ipaddress
import socket

_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex
_real_getaddrinfo = socket.getaddrinfo


class NetworkBlockedError(ConnectionRefusedError):
    """Raised for any attempt to reach a non-loopback address while tests run."""


def _is_local(address) -> bool:
    if not isinstance(address, tuple):  # AF_UNIX path
        return True
    host = address[0]
    if host in ("localhost", ""):
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def _guard(address):
    if not _is_local(address):
        raise NetworkBlockedError(
            f"network access to {address!r} is blocked while the course's tests run; "
            "tests and default code paths must work offline."
        )


def _connect(self, address):
    _guard(address)
    return _real_connect(self, address)


def _connect_ex(self, address):
    _guard(address)
    return _real_connect_ex(self, address)


def _getaddrinfo(host, *args, **kwargs):
    if host not in (None, "localhost", "") and not _is_local((str(host), 0)):
        raise NetworkBlockedError(f"name lookup of {host!r} is blocked while the course's tests run.")
    return _real_getaddrinfo(host, *args, **kwargs)


socket.socket.connect = _connect
socket.socket.connect_ex = _connect_ex
socket.getaddrinfo = _getaddrinfo
