"""Issue 11 items 7 and 9 for the HTTP server's exposure: TLS, the refusal to listen on a
network address without TLS or to run without authentication, and /readyz agreeing with POST
when the log's disk is read-only. Real servers: in a thread, or ``vitalstream serve`` in a
subprocess."""

from __future__ import annotations

import datetime
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from http_attack_helpers import GATEWAY_KEY, KEYS, SW, clean_env, cli_command, records, server

from vitalstream import topics as T


def self_signed(tmp_path: Path) -> tuple[str, str]:
    """A certificate for 127.0.0.1/localhost and its key, made here (no network)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([
                x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                critical=False)
            .sign(key, hashes.SHA256()))
    cert_file, key_file = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_file.chmod(0o600)
    return str(cert_file), str(key_file)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def key_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return clean_env(VITALSTREAM_HOME=str(tmp_path),
                     VITALSTREAM_HTTP_GATEWAY_KEYS=KEYS["gateway_keys"][0], **extra)


def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cli_command() + args, env=env, capture_output=True, text=True,
                          timeout=60, stdin=subprocess.DEVNULL)


def wait_healthy(url: str, proc: subprocess.Popen[str], verify: object = True) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"server exited {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"{url}/healthz", timeout=1, verify=verify).status_code == 200:  # type: ignore[arg-type]
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("server did not become healthy")


def stop(proc: subprocess.Popen[str]) -> str:
    proc.terminate()
    try:
        _, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate(timeout=5)
    return err


# -- TLS ------------------------------------------------------------------------------------------
def test_tls_serves_https_and_refuses_plain_http(tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=cert)
    with server(tmp_path, scheme="https", verify=trust, tls_cert=cert, tls_key=key) as c:
        r = c.post("/stream", json=SW)
        assert r.status_code == 200, r.text
        plain = str(c.base_url).replace("https://", "http://")
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{plain}/healthz", timeout=5)
    assert len(records(tmp_path, T.SMARTWATCH)) == 1


def test_serve_with_tls_on_every_address(tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    port = free_port()
    proc = subprocess.Popen([*cli_command(), "serve", "--host", "0.0.0.0", "--port", str(port),
                             "--tls-cert", cert, "--tls-key", key],
                            env=key_env(tmp_path), stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    try:
        wait_healthy(f"https://127.0.0.1:{port}", proc, verify=ssl.create_default_context(cafile=cert))
    finally:
        err = stop(proc)
    assert f"https://0.0.0.0:{port}" in err and "INSECURE" not in err


def test_bad_tls_files_are_one_clear_error(tmp_path) -> None:
    cert, key = self_signed(tmp_path)
    for args, words in ((["--tls-cert", str(tmp_path / "none.pem"), "--tls-key", key], "does not exist"),
                        (["--tls-cert", key, "--tls-key", cert], "cannot load"),
                        (["--tls-cert", cert], "go together")):
        r = run_cli(["serve", "--port", str(free_port()), *args], key_env(tmp_path))
        assert r.returncode == 2, r.stderr
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("error:") and words in lines[0], r.stderr


# -- refusals ----------------------------------------------------------------------------------
@pytest.mark.parametrize("args,env,words", [
    (["--host", "0.0.0.0"], {}, "without TLS"),
    (["--host", "::"], {}, "without TLS"),
    ([], {"VITALSTREAM_HTTP_AUTH": "false"}, "authentication is off"),
    (["--host", "0.0.0.0"], {"VITALSTREAM_HTTP_HOST": "127.0.0.1"}, "without TLS"),
])
def test_unsafe_exposure_is_refused_in_one_line(tmp_path, args, env, words) -> None:
    r = run_cli(["serve", "--port", str(free_port()), *args], key_env(tmp_path, **env))
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert lines[0].startswith("error: refusing to start") and words in lines[0]
    assert "--insecure" in lines[0] and "Traceback" not in r.stderr


def test_insecure_starts_with_a_loud_warning(tmp_path) -> None:
    port = free_port()
    proc = subprocess.Popen([*cli_command(), "serve", "--port", str(port), "--insecure"],
                            env=key_env(tmp_path, VITALSTREAM_HTTP_AUTH="false"),
                            stderr=subprocess.PIPE, text=True, stdin=subprocess.DEVNULL)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", proc)
        assert httpx.post(f"http://127.0.0.1:{port}/stream", json=SW).status_code == 200
    finally:
        err = stop(proc)
    assert "warning: INSECURE: authentication is off" in err
    assert GATEWAY_KEY not in err


# -- /readyz on a read-only disk ----------------------------------------------------------------
def _can_mount_read_only(folder: Path) -> bool:
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "--propagation", "private", "sh", "-c",
                            f"mount --bind {folder} {folder} && "
                            f"mount -o remount,bind,ro {folder}"],
                           capture_output=True, timeout=30)
    return probe.returncode == 0


# The shell run in a private mount namespace: prepare the log's folder, start the server,
# and when the test touches TRIGGER make the disk unwritable under the running server.
_DISKS = {
    # mounted read-only before the server starts (a writable mount cannot be remounted
    # read-only while the log holds its files open)
    "read-only": ("mount --bind {d} {d} && mount -o remount,bind,ro {d} || exit 1", ":"),
    # a small disk that fills up while the server runs
    "full": ("mount -t tmpfs -o size=24m tmpfs {d} || exit 1",
             "dd if=/dev/zero of={d}/filler bs=1M 2>/dev/null; true"),
}


@pytest.mark.parametrize("disk", sorted(_DISKS))
def test_readyz_agrees_with_post_when_the_log_disk_cannot_be_written(tmp_path, disk) -> None:
    # Attack: on a read-only disk /readyz said 200 while POST answered 503.
    logdir = tmp_path / "logdisk"
    logdir.mkdir()
    if not _can_mount_read_only(logdir):
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root and must be able to mount a read-only folder (unshare -m)")
        pytest.skip("needs root and unshare -m to mount a read-only folder")
    port = free_port()
    trigger = tmp_path / "trigger"
    code = ("from vitalstream.config import load; from vitalstream.sources.http import serve; "
            "serve(load())")
    env = key_env(tmp_path, VITALSTREAM_LOG_URL=f"sqlite:///{logdir}/log.db",
                  VITALSTREAM_HTTP_PORT=str(port), VITALSTREAM_PARTITIONS="2")
    prepare, spoil = (part.format(d=logdir) for part in _DISKS[disk])
    script = (f"{prepare}; {sys.executable} -c '{code}' & pid=$!; trap 'kill $pid' TERM; "
              f"n=0; while [ ! -e {trigger} ] && [ $n -lt 600 ]; do sleep 0.1; n=$((n+1)); done; "
              f"{spoil}; touch {trigger}.done; wait $pid")
    proc = subprocess.Popen(["unshare", "-m", "--propagation", "private", "sh", "-c", script],
                            env=env, stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {GATEWAY_KEY}"}
    try:
        wait_healthy(url, proc)
        if disk == "full":  # writable at first
            assert httpx.post(f"{url}/stream", json=SW, headers=auth, timeout=10).status_code == 200
            assert httpx.get(f"{url}/readyz", timeout=10).status_code == 200
        trigger.touch()
        deadline = time.monotonic() + 30
        while not Path(f"{trigger}.done").exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        ready = httpx.get(f"{url}/readyz", timeout=10)
        post = httpx.post(f"{url}/stream", json=SW, headers=auth, timeout=10)
        ready_after = httpx.get(f"{url}/readyz", timeout=10)
    finally:
        stop(proc)
    assert post.status_code == 503
    assert ready.status_code == 503 and ready_after.status_code == 503, ready.text
