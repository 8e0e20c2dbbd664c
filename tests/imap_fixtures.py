"""A real Dovecot IMAP server on loopback for the fetch tests, and real MIME mails for it.

The server runs in the foreground (`dovecot -F`) with a config written for the test: one user with
a plain password in a passwd-file, maildir storage, plain IMAP or implicit TLS with a self-signed
certificate made by openssl. Mail is delivered by IMAP APPEND with an INTERNALDATE, as a mail
server stamps arrival. Dovecot refuses to run its login and mail processes as root, so under root
(CI) they run as `nobody` in a world-readable temporary folder.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from email.header import Header
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import quote

from imapclient import IMAPClient

from tests.conftest import require_tool

USER, PASSWORD = "ducha", "s3cret-pw"
TZ = dt.timezone(dt.timedelta(hours=8))


@dataclass
class Server:
    port: int
    process: subprocess.Popen
    home: Path
    command: list[str]
    cafile: Path | None = None

    def append(self, message: EmailMessage | bytes, arrival: dt.datetime, folder: str = "INBOX") -> None:
        """Deliver message with arrival as its INTERNALDATE."""
        raw = message if isinstance(message, bytes) else message.as_bytes()
        with self.client() as client:
            client.append(folder, raw, msg_time=arrival)

    @contextlib.contextmanager
    def client(self) -> Iterator[IMAPClient]:
        import ssl

        context = ssl.create_default_context(cafile=str(self.cafile)) if self.cafile else None
        client = IMAPClient("127.0.0.1", self.port, ssl=self.cafile is not None, ssl_context=context, timeout=10)
        client.login(USER, PASSWORD)
        try:
            yield client
        finally:
            client.logout()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _certificate(folder: Path) -> tuple[Path, Path]:
    openssl = require_tool("openssl")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


def _config(home: Path, port: int, tls: tuple[Path, Path] | None) -> str:
    owner = pwd.getpwnam("nobody") if os.getuid() == 0 else pwd.getpwuid(os.getuid())
    login = owner.pw_name
    ssl_lines = (f"ssl = required\nssl_cert = <{tls[0]}\nssl_key = <{tls[1]}\n" if tls else "ssl = no\n")
    listener = "imaps" if tls else "imap"
    other = "imap" if tls else "imaps"
    return f"""base_dir = {home}/run
state_dir = {home}/state
log_path = {home}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl_lines}disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {login}
default_login_user = {login}
default_internal_group = {_group(owner.pw_gid)}
first_valid_uid = {owner.pw_uid}
first_valid_gid = {owner.pw_gid}
mail_location = maildir:{home}/mail/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {home}/users
}}
userdb {{
  driver = static
  args = uid={owner.pw_uid} gid={owner.pw_gid} home={home}/mail/%u
}}
service imap-login {{
  inet_listener {listener} {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener {other} {{
    port = 0
  }}
  chroot =
}}
service anvil {{
  chroot =
}}
"""


def _group(gid: int) -> str:
    import grp

    return grp.getgrgid(gid).gr_name


@contextlib.contextmanager
def dovecot(tmp_path: Path, tls: bool = False) -> Iterator[Server]:
    """A running Dovecot with an empty INBOX; stopped and removed afterwards."""
    binary = require_tool("dovecot", "/usr/sbin/dovecot")  # /usr/sbin is not on a non-root PATH
    home = Path(tempfile.mkdtemp(prefix="ducha-dovecot-"))
    home.chmod(0o755)
    try:
        (home / "mail").mkdir()
        if os.getuid() == 0:
            nobody = pwd.getpwnam("nobody")
            os.chown(home / "mail", nobody.pw_uid, nobody.pw_gid)
        (home / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n", encoding="utf-8")
        certs = _certificate(tmp_path) if tls else None
        port = free_port()
        conf = tmp_path / "dovecot.conf"
        conf.write_text(_config(home, port, certs), encoding="utf-8")
        command = [binary, "-F", "-c", str(conf)]
        server = Server(port, _start(command), home, command, certs[0] if certs else None)
        try:
            _wait(server)
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _start(command: list[str]) -> subprocess.Popen:
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _wait(server: Server) -> None:
    deadline = time.monotonic() + 15
    while True:
        try:
            with server.client():
                return
        except Exception:  # noqa: BLE001 — not up yet
            if server.process.poll() is not None or time.monotonic() > deadline:
                log = server.home / "dovecot.log"
                raise RuntimeError("dovecot did not start: " + (server.process.stderr.read().decode() if
                                   server.process.poll() is not None else "") +
                                   (log.read_text() if log.exists() else "")) from None
            time.sleep(0.1)


def mail(sender: str, subject: str, *files: tuple[str, bytes], to: str = "ducha@kaifeng.example.cn") -> EmailMessage:
    """A unit's mail with these attachments (names encoded as a client would: RFC 2231 for non-ASCII)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = sender, to, subject
    message["Message-ID"] = make_msgid(domain="unit.example.cn")
    message.set_content("附件是本单位的填报表，请查收。")
    for name, data in files:
        message.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return message


def raw_mail(sender: str, subject: str, disposition: str, data: bytes) -> bytes:
    """A mail whose one attachment has exactly this Content-Disposition (an RFC 2231 or RFC 2047
    name as a given client writes it), built by hand so no library re-encodes it."""
    body = base64.encodebytes(data).decode("ascii")
    text = (f"From: {sender}\r\nTo: ducha@kaifeng.example.cn\r\nSubject: {Header(subject, 'utf-8').encode()}\r\n"
            f"Message-ID: {make_msgid(domain='unit.example.cn')}\r\nMIME-Version: 1.0\r\n"
            'Content-Type: multipart/mixed; boundary="b-ducha"\r\n\r\n'
            "--b-ducha\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n"
            f"{base64.b64encode('请查收。'.encode()).decode()}\r\n"
            f"--b-ducha\r\nContent-Type: application/octet-stream\r\nContent-Disposition: {disposition}\r\n"
            f"Content-Transfer-Encoding: base64\r\n\r\n{body}\r\n--b-ducha--\r\n")
    return text.encode("ascii")


def rfc2231(name: str) -> str:
    return f"attachment; filename*=utf-8''{quote(name, safe='')}"


def rfc2047_gbk(name: str) -> str:
    return f'attachment; filename="=?GBK?B?{base64.b64encode(name.encode("gbk")).decode()}?="'


class Proxy:
    """A TCP relay in front of the server that can drop every connection at once, as a server or
    a firewall does mid-fetch (Dovecot's own sessions outlive a stopped master, so stopping it
    would not cut a client off). While cut, new connections are closed at once."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.open: list[socket.socket] = []
        self.down = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.down:
                client.close()
                continue
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.open += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                sink.sendall(data)
        for s in (source, sink):
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        """Drop every open connection and refuse new ones."""
        self.down = True
        for s in self.open:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
        self.open.clear()

    def resume(self) -> None:
        self.down = False

    def close(self) -> None:
        self.cut()
        self.listener.close()
