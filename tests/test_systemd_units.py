"""The units: `systemd-analyze verify` is clean, the forwarder's exposure is at most 2.5, every
non-default line is explained, and nothing newer than systemd 252 is used."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

UNITS_DIR = Path(__file__).resolve().parents[1] / "systemd"
UNITS = ["terminal-agent.service", "terminal-agent-ui.service", "terminal-agent-backup.service"]
BINARY = "/opt/terminal-agent/current/bin/terminal-agent"
MAX_EXPOSURE = 2.5

analyze = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(analyze is None, reason="systemd-analyze is not installed")


def _with_stub_binary(unit: str, tmp_path: Path) -> Path:
    """A copy of ``unit`` whose ExecStart= points at an executable stub (verify checks it)."""
    stub = tmp_path / "bin" / "terminal-agent"
    stub.parent.mkdir(exist_ok=True)
    stub.write_text("#!/bin/sh\nexit 0\n")
    stub.chmod(0o755)
    copy = tmp_path / unit
    copy.write_text((UNITS_DIR / unit).read_text().replace(BINARY, str(stub)))
    return copy


def _directives(unit: str) -> list[tuple[int, str, str]]:
    out = []
    for number, line in enumerate((UNITS_DIR / unit).read_text().splitlines(), start=1):
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.append((number, key, value))
    return out


@needs_analyze
@pytest.mark.parametrize("unit", UNITS)
def test_verify_is_clean(unit: str, tmp_path: Path) -> None:
    copy = _with_stub_binary(unit, tmp_path)
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    ours = [line for line in (result.stdout + result.stderr).splitlines() if unit in line]
    assert result.returncode == 0 and ours == [], result.stdout + result.stderr


@needs_analyze
def test_verify_catches_a_mistake(tmp_path: Path) -> None:
    copy = _with_stub_binary(UNITS[0], tmp_path)
    copy.write_text(copy.read_text().replace("ProtectHome=yes", "ProtectHom=yes"))
    result = subprocess.run([analyze, "verify", str(copy)], capture_output=True, text=True,
                            timeout=60)
    assert "Unknown key" in result.stderr or "Unknown lvalue" in result.stderr


def exposure(unit: str, tmp_path: Path) -> float:
    copy = _with_stub_binary(unit, tmp_path)
    assert analyze is not None
    result = subprocess.run([analyze, "security", "--offline=yes", str(copy)],
                            capture_output=True, text=True, timeout=60)
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    return float(match.group(1))


@needs_analyze
def test_forwarder_exposure_is_low(tmp_path: Path) -> None:
    score = exposure(UNITS[0], tmp_path)
    print(f"systemd-analyze security: terminal-agent.service exposure {score}")
    assert score <= MAX_EXPOSURE


@needs_analyze
def test_ui_exposure_is_low(tmp_path: Path) -> None:
    # The UI needs tty1, the printer and the scanner, so no PrivateDevices=; still well under.
    score = exposure(UNITS[1], tmp_path)
    print(f"systemd-analyze security: terminal-agent-ui.service exposure {score}")
    assert score <= MAX_EXPOSURE


@pytest.mark.parametrize("unit", UNITS)
def test_every_setting_is_explained(unit: str) -> None:
    """Each directive sits in a paragraph that opens with (or contains, above it) a comment."""
    lines = (UNITS_DIR / unit).read_text().splitlines()
    self_evident = {"Description", "Documentation", "ExecStart", "WantedBy"}
    for number, key, _ in _directives(unit):
        if key in self_evident:
            continue
        above = []
        for prev in reversed(lines[:number - 1]):
            if not prev or prev.startswith("["):
                break
            above.append(prev)
        assert any(p.startswith("#") for p in above), f"{unit}:{number} {key}= has no comment"


def test_forwarder_has_what_the_issue_asks() -> None:
    keys = {(k, v) for _, k, v in _directives(UNITS[0])}
    for wanted in [("Type", "notify"), ("Restart", "always"), ("User", "terminal-agent"),
                   ("Group", "terminal-agent"), ("StateDirectory", "terminal-agent"),
                   ("StateDirectoryMode", "0750"), ("ConfigurationDirectory", "terminal-agent"),
                   ("ProtectSystem", "strict"), ("ProtectHome", "yes"), ("PrivateTmp", "yes"),
                   ("PrivateDevices", "yes"), ("NoNewPrivileges", "yes"),
                   ("SystemCallFilter", "@system-service"), ("CapabilityBoundingSet", ""),
                   ("LoadCredential",
                    "switch-password:/etc/terminal-agent/switch-password")]:
        assert wanted in keys, wanted
    assert any(k == "WatchdogSec" for k, _ in keys)
    assert any(k == "RestrictAddressFamilies" for k, _ in keys)
    assert (f"{BINARY} forward --config /etc/terminal-agent/config.toml"
            in dict(keys)["ExecStart"])


def test_ui_has_what_the_issue_asks() -> None:
    directives = _directives(UNITS[1])
    keys = {(k, v) for _, k, v in directives}
    for wanted in [("TTYPath", "/dev/tty1"), ("StandardInput", "tty"),
                   ("Conflicts", "getty@tty1.service"), ("Restart", "always"),
                   ("DevicePolicy", "closed"), ("SupplementaryGroups", "lp dialout"),
                   ("Group", "terminal-agent")]:
        assert wanted in keys, wanted
    allowed = {v.split()[0] for k, v in keys if k == "DeviceAllow"}
    assert {"/dev/tty1", "char-lp", "char-usb", "char-ttyS", "char-ttyUSB",
            "char-ttyACM"} <= allowed
    assert not any(k == "PrivateDevices" for k, _ in keys)  # it would hide the devices


# Options that appeared after systemd 252 (Debian 12); none may be used.
NEWER_THAN_252 = {
    "OpenFile", "ReloadSignal", "MemoryZSwapMax", "ExtensionDirectories", "SetLoginEnvironment",
    "SurviveFinalKillSignal", "ImportCredential", "ProtectHostnameEx", "PrivateUsersEx",
    "MemoryKSM", "RestartMode", "RestartSteps", "RestartMaxDelaySec", "PrivatePIDs",
    "ProtectControlGroupsEx", "LoadCredentialEx",
}


@pytest.mark.parametrize("unit", UNITS)
def test_no_option_newer_than_252(unit: str) -> None:
    used = {k for _, k, _ in _directives(unit)}
    assert used.isdisjoint(NEWER_THAN_252), used & NEWER_THAN_252
