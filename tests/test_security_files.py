"""Start-up refusals (readable secrets and database, insecure switch URLs), TLS settings and
cashier PIN hashing."""

from __future__ import annotations

import os
import ssl
import stat
import time
from pathlib import Path

import pytest

from terminal_agent import config, security
from terminal_agent.config import SwitchConfig, read_secret
from terminal_agent.errors import ConfigError, InsecureFile
from terminal_agent.security import (
    check_agent_security,
    check_state_files,
    check_switch_url,
    hash_pin,
    is_loopback_host,
    pin_needs_rehash,
    tls_context,
    verify_pin,
)


def _file(path: Path, mode: int, text: str = "x") -> Path:
    path.write_text(text)
    path.chmod(mode)
    return path


@pytest.fixture
def state(tmp_path: Path) -> Path:
    tmp_path.chmod(0o750)
    _file(tmp_path / "agent.db", 0o600)
    _file(tmp_path / "config.toml", 0o600)
    _file(tmp_path / "switch-password", 0o600, "s3cret\n")
    return tmp_path


def test_owner_only_files_pass(state: Path) -> None:
    check_state_files(state / "agent.db", state / "config.toml", state / "switch-password")
    check_state_files(state / "missing.db", None)  # created 0600 later


@pytest.mark.parametrize("name", ["agent.db", "config.toml", "switch-password",
                                  "agent.db-wal"])
@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o606])
def test_readable_by_others_is_refused(state: Path, name: str, mode: int) -> None:
    _file(state / name, mode)
    with pytest.raises(InsecureFile) as err:
        check_state_files(state / "agent.db", state / "config.toml", state / "switch-password")
    assert str(state / name) in str(err.value) and "chmod 600" in str(err.value)


def test_world_writable_database_folder_is_refused(state: Path) -> None:
    state.chmod(0o777)
    with pytest.raises(InsecureFile, match="database folder"):
        check_state_files(state / "agent.db", None)
    state.chmod(0o1777)  # sticky (like /tmp): others cannot replace our file
    check_state_files(state / "agent.db", None)


def test_read_secret_refuses_a_world_readable_password_file(state: Path) -> None:
    secret = state / "switch-password"
    assert read_secret(str(secret), "") == "s3cret"
    secret.chmod(0o644)
    with pytest.raises(InsecureFile, match="switch password file"):
        read_secret(str(secret), "")


def test_read_secret_from_a_credential(state: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    creds = state / "creds"
    creds.mkdir(mode=0o700)
    _file(creds / "switch-password", 0o400, "from-systemd\n")
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
    assert read_secret("", "switch-password") == "from-systemd"
    (creds / "switch-password").chmod(0o444)
    with pytest.raises(InsecureFile):
        read_secret("", "switch-password")


def test_check_agent_security_covers_config_db_password_and_url(state: Path) -> None:
    cfg_path = state / "config.toml"
    cfg_path.write_text(
        '[store]\npath = "agent.db"\n'
        '[switch]\nbase_url = "https://switch.example"\npassword_file = "switch-password"\n')
    cfg = config.load(cfg_path)
    check_agent_security(cfg)
    (state / "switch-password").chmod(0o640)
    with pytest.raises(InsecureFile, match="switch-password"):
        check_agent_security(cfg)
    (state / "switch-password").chmod(0o600)
    cfg_path.chmod(0o644)
    with pytest.raises(InsecureFile, match="configuration file"):
        check_agent_security(cfg)


@pytest.mark.parametrize("url", [
    "https://switch.example/", "https://10.1.2.3:8443", "http://127.0.0.1:8080",
    "http://[::1]:8080", "HTTP://127.0.0.1/x", "https://localhost:8443",
])
def test_allowed_switch_urls(url: str) -> None:
    check_switch_url(url)


@pytest.mark.parametrize(("url", "why"), [
    ("http://switch.example/", "only allowed to a loopback"),
    ("http://10.0.0.5:8080", "only allowed to a loopback"),
    ("http://127.0.0.1.evil.example", "only allowed to a loopback"),
    ("http://[::ffff:10.0.0.1]", "only allowed to a loopback"),
    # finding: plain http to any *.localhost name or 127/8 address (a hosts entry sends the
    # Basic credentials to another machine)
    ("http://localhost:9000/x", "only allowed to a loopback"),
    ("http://switch.localhost", "only allowed to a loopback"),
    ("http://127.8.9.10", "only allowed to a loopback"),
    ("http://127.0.0.53:8080", "only allowed to a loopback"),
    ("ftp://127.0.0.1", "not an http"),
    ("https://", "not an http"),
    ("https://1234:hunter2@switch.example", "carries credentials"),
])
def test_refused_switch_urls(url: str, why: str) -> None:
    with pytest.raises(ConfigError, match=why) as err:
        check_switch_url(url)
    assert "hunter2" not in str(err.value)


def test_plain_http_only_to_the_two_literal_loopback_addresses() -> None:
    assert is_loopback_host("127.0.0.1") and is_loopback_host("::1") and is_loopback_host("[::1]")
    for host in ("localhost", "127.0.0.53", "0.0.0.0", "localhost.example", "ip6-localhost",
                 "::ffff:127.0.0.1", "2130706433"):
        assert not is_loopback_host(host), host


def test_tls_context_always_verifies(tmp_path: Path) -> None:
    ctx = tls_context(SwitchConfig())
    assert ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    with pytest.raises(ConfigError, match="switch.ca_file"):
        tls_context(SwitchConfig(ca_file=str(tmp_path / "missing.pem")))
    key = _file(tmp_path / "client.key", 0o644)
    cert = _file(tmp_path / "client.pem", 0o644)
    with pytest.raises(InsecureFile, match="TLS client key"):
        tls_context(SwitchConfig(client_cert=str(cert), client_key=str(key)))
    key.chmod(0o600)
    with pytest.raises(ConfigError, match="switch TLS settings"):  # not a real certificate
        tls_context(SwitchConfig(client_cert=str(cert), client_key=str(key)))


def test_pin_hash_round_trip() -> None:
    stored = hash_pin("4821")
    scheme, n, r, p, salt, digest = stored.split("$")
    cost = security.SCRYPT  # lowered for tests (conftest.py); production: OWASP_SCRYPT
    assert (scheme, n, r, p) == ("scrypt", str(cost.n), str(cost.r), str(cost.p))
    assert "4821" not in stored
    assert verify_pin("4821", stored)
    assert not verify_pin("4822", stored)
    assert not verify_pin("", stored)
    assert hash_pin("4821") != stored  # a fresh salt every time
    assert not pin_needs_rehash(stored)


@pytest.mark.parametrize("stored", [
    "", "plain", "scrypt$16384$8$1$abc", "bcrypt$16384$8$1$AAAA$AAAA",
    "scrypt$1000$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$2097152$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    "scrypt$16384$8$1$!!$AAAA",
])
def test_malformed_hashes_never_verify(stored: str) -> None:
    assert verify_pin("1234", stored) is False


def test_pin_hashing_is_not_instant_but_quick() -> None:
    started = time.perf_counter()
    stored = hash_pin("9999")
    verify_pin("9999", stored)
    assert time.perf_counter() - started < 2.0


def test_create_private_file_mode(tmp_path: Path) -> None:
    from terminal_agent.security import create_private_file

    target = tmp_path / "sub" / "agent.db"
    create_private_file(target)
    assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
