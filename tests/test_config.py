"""Configuration: strict, with errors naming file, key and line."""

import pytest

from terminal_agent import config
from terminal_agent.errors import ConfigError, InsecureFile


def test_example_config_loads(tmp_path):
    from pathlib import Path

    example = Path(__file__).parents[1] / "config.example.toml"
    cfg = config.load(example)
    assert cfg.terminal.currency == "710"
    assert cfg.switch.read_timeout == 60.0


def test_unknown_key_names_file_key_line_and_suggestion(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[terminal]\nterminal_id = "TILL0001"\n\n[switch]\nread_timout = 5\n')
    with pytest.raises(ConfigError) as err:
        config.load(f)
    text = str(err.value)
    assert str(f) in text and "switch.read_timout" in text and "line 5" in text
    assert "read_timeout" in text


def test_wrong_type_names_key_and_line(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[forwarder]\nconcurrency = "eight"\n')
    with pytest.raises(ConfigError) as err:
        config.load(f)
    assert "forwarder.concurrency" in str(err.value) and "line 2" in str(err.value)


@pytest.mark.parametrize("key,value,words", [
    ("terminal_id", '"SHORT"', "exactly 8"),
    ("merchant_id", '"123"', "exactly 15"),
    ("currency", '"ZAR"', "3-digit"),
])
def test_identity_values_checked_at_load(key, value, words):
    with pytest.raises(ConfigError) as err:
        config.loads(f"[terminal]\n{key} = {value}\n", "x.toml")
    assert f"terminal.{key}" in str(err.value) and words in str(err.value)
    assert "line 2" in str(err.value)


def test_unknown_table(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.loads("[swtich]\nbase_url = 'x'\n", "x.toml")
    assert "swtich" in str(err.value) and "switch" in str(err.value)


def test_secret_from_file_must_be_private(tmp_path):
    secret = tmp_path / "pw"
    secret.write_text("s3cret\n")
    secret.chmod(0o644)
    with pytest.raises(InsecureFile):
        config.read_secret(str(secret), "")
    secret.chmod(0o600)
    assert config.read_secret(str(secret), "") == "s3cret"


def test_secret_from_systemd_credential(tmp_path, monkeypatch):
    (tmp_path / "switch-password").write_text("cred\n")
    (tmp_path / "switch-password").chmod(0o400)
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert config.read_secret("", "switch-password") == "cred"
    monkeypatch.delenv("CREDENTIALS_DIRECTORY")
    with pytest.raises(ConfigError):
        config.read_secret("", "switch-password")


def test_relative_paths_resolve_against_the_file(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[store]\npath = "state/agent.db"\n')
    assert config.load(f).store.path == str(tmp_path / "state" / "agent.db")


# -- bounds for every number (issue 12, finding 8) ----------------------------------------------


@pytest.mark.parametrize("table, key, value", [
    ("forwarder", "poll_interval", "0"),          # busy-looped
    ("ui", "idle_lock_seconds", "0"),             # switched the idle lock off
    ("ui", "max_pin_failures", "1000000"),        # switched the PIN lock-out off
    ("switch", "read_timeout", "inf"),            # waited for ever
    ("forwarder", "concurrency", "0"),
    ("forwarder", "batch_size", "-1"),
    ("ui", "lockout_seconds", "0"),
    ("store", "busy_timeout_ms", "0"),
    ("forwarder", "backoff_max", "nan"),
])
def test_nonsense_numbers_are_refused_with_file_key_and_line(tmp_path, table, key, value):
    path = tmp_path / "config.toml"
    path.write_text(f"# till\n\n[{table}]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as err:
        config.load(path)
    text = str(err.value)
    assert f"{path}, line 4: key `{table}.{key}`" in text and "out of range" in text


def test_every_number_has_bounds():
    missing = set(config.numeric_keys()) - set(config.BOUNDS)
    assert not missing, f"give these config numbers a range in config.BOUNDS: {sorted(missing)}"


def test_defaults_and_the_example_are_within_bounds(tmp_path):
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    config.loads(example.read_text(), "config.example.toml")
    config.loads("", "empty.toml")


def test_backoff_cap_below_the_first_pause_is_refused(tmp_path):
    with pytest.raises(ConfigError) as err:
        config.loads("[forwarder]\nbackoff_initial = 10.0\nbackoff_max = 1.0\n", "c.toml")
    assert "backoff_max" in str(err.value)
