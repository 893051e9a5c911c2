import socket
import subprocess
import sys

import pytest


def test_outbound_connection_is_refused_in_the_test_process():
    with pytest.raises(ConnectionRefusedError, match="blocked"):
        socket.create_connection(("93.184.215.14", 80), timeout=2)


def test_loopback_still_works():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=2)
    client.close()
    server.close()


def test_child_processes_inherit_the_guard():
    code = (
        "import socket\n"
        "try:\n"
        "    socket.create_connection(('93.184.215.14', 80), timeout=2)\n"
        "except ConnectionRefusedError as e:\n"
        "    print('blocked' in str(e))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "True", out.stderr
