"""The database: owner-only, WAL, synchronous=FULL, migrations, full disk refused cleanly; created
on purpose only, and refused when missing, emptied, another till's, damaged or of another
schema (issue 12, finding 1 and 2)."""

import os
import random
import sqlite3
import stat
from pathlib import Path

import pytest

from terminal_agent.core import schema
from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.core.store import TERMINAL_KEY, Store, create_database
from terminal_agent.errors import (
    InsecureFile,
    StoreDamaged,
    StoreError,
    StoreForeign,
    StoreFull,
    StoreMissing,
    StoreVersion,
)


async def test_created_private_with_wal_and_full_sync(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.create(path, "TILL0001")
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.fetchone("PRAGMA synchronous"))[0] == 2  # FULL
        assert (await store.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.fetchone("PRAGMA user_version"))[0] == len(MIGRATIONS)
        assert (await store.fetchone("SELECT value FROM kv WHERE key=?", (TERMINAL_KEY,)))[0] \
            == "TILL0001"
    finally:
        await store.close()


async def test_refuses_a_database_others_can_read(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    os.chmod(path, 0o644)
    with pytest.raises(InsecureFile) as err:
        await Store.open(path)
    assert "chmod 600" in str(err.value)


async def test_reopen_keeps_data_and_does_not_rerun_migrations(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.create(path, "TILL0001")
    await store.step(lambda db: db.execute("INSERT INTO kv VALUES ('a', '1')"))
    await store.close()
    store = await Store.open(path)
    assert (await store.fetchone("SELECT value FROM kv WHERE key='a'"))[0] == "1"
    await store.close()


async def test_failed_step_rolls_back_whole(tmp_path):
    store = await Store.create(tmp_path / "agent.db", "TILL0001")
    def half(db):
        db.execute("INSERT INTO kv VALUES ('b', '1')")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await store.step(half)
    assert await store.fetchone("SELECT * FROM kv WHERE key='b'") is None
    await store.close()


async def test_full_disk_refuses_new_writes_and_keeps_old_ones(tmp_path):
    store = await Store.create(tmp_path / "agent.db", "TILL0001")
    await store.step(lambda db: db.execute("INSERT INTO kv VALUES ('kept', 'yes')"))
    await store.set_page_limit(await store.page_count())
    with pytest.raises(StoreFull) as err:
        for i in range(1000):
            await store.step(lambda db, i=i: db.execute("INSERT INTO kv VALUES (?, ?)",
                                                        (f"k{i}", "x" * 4000)))
    assert "full" in str(err.value)
    assert (await store.fetchone("SELECT value FROM kv WHERE key='kept'"))[0] == "yes"
    await store.close()
    # nothing half-written: the file is a consistent database
    con = sqlite3.connect(tmp_path / "agent.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()


# -- created on purpose only (finding 1) ------------------------------------------------------


async def test_a_missing_database_is_refused_not_created(tmp_path):
    path = tmp_path / "agent.db"
    with pytest.raises(StoreMissing) as err:
        await Store.open(path, config="/etc/terminal-agent/config.toml")
    assert not path.exists()
    text = str(err.value)
    assert str(path) in text and "terminal-agent init --config /etc/terminal-agent/config.toml" \
        in text and "restore" in text


async def test_an_emptied_database_is_refused_not_recreated(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    path.write_bytes(b"")  # what a technician found: 0 bytes, 4 parked advices gone
    with pytest.raises(StoreMissing) as err:
        await Store.open(path)
    assert "empty (0 bytes)" in str(err.value)
    assert path.stat().st_size == 0  # still empty: nothing was quietly made


async def test_a_sqlite_file_without_our_tables_is_refused(tmp_path):
    path = tmp_path / "agent.db"
    sqlite3.connect(path).execute("CREATE TABLE t (x)").connection.close()
    path.chmod(0o600)
    with pytest.raises(StoreMissing) as err:
        await Store.open(path)
    assert "not a terminal-agent database" in str(err.value)


async def test_create_never_overwrites(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.create(path, "TILL0001")
    await store.step(lambda db: db.execute("INSERT INTO kv VALUES ('mine', '1')"))
    await store.close()
    with pytest.raises(StoreError) as err:
        create_database(path, "TILL0001")
    assert "already exists" in str(err.value)
    store = await Store.open(path)
    assert await store.fetchone("SELECT 1 FROM kv WHERE key='mine'") is not None
    await store.close()


async def test_another_tills_database_is_refused(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    with pytest.raises(StoreForeign) as err:
        await Store.open(path, terminal_id="TILL0002", config="till2.toml")
    assert "belongs to till TILL0001" in str(err.value) and "till2.toml is till TILL0002" \
        in str(err.value)


async def test_a_database_from_before_identities_is_stamped_on_first_open(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    con = sqlite3.connect(path)
    con.execute("DELETE FROM kv WHERE key=?", (TERMINAL_KEY,))
    con.commit()
    con.close()
    await (await Store.open(path, terminal_id="TILL0007")).close()
    with pytest.raises(StoreForeign):
        await Store.open(path, terminal_id="TILL0001")


# -- integrity (finding 2) --------------------------------------------------------------------


def damage(path: Path, seed: int = 1) -> None:
    """Overwrite pages past the header, as a failing card or a stray `dd` would (the same
    bytes for the same seed: a damage found once can be replayed)."""
    size = path.stat().st_size
    noise = random.Random(seed)
    with open(path, "r+b") as fh:
        for offset in range(4096, size, 4096):
            fh.seek(offset + 100)
            fh.write(noise.randbytes(400))


async def test_a_damage_report_quoting_broken_bytes_still_refuses_the_database(tmp_path):
    """Seed 5 makes SQLite's quick_check quote bytes that are not UTF-8: the verdict must still
    be StoreDamaged with its sentence, not a UnicodeDecodeError from reading the report."""
    path = tmp_path / "agent.db"
    store = await Store.create(path, "TILL0001")
    await store.executemany("INSERT INTO kv VALUES (?, ?)",
                            [(f"k{i}", "x" * 200) for i in range(200)])
    await store.close()
    damage(path, seed=5)
    con = sqlite3.connect(path)
    with pytest.raises(UnicodeDecodeError):  # what reading the report naively does
        con.execute("PRAGMA quick_check").fetchall()
    con.close()
    with pytest.raises(StoreDamaged) as err:
        await Store.open(path, quick_check=True)
    assert "terminal-agent restore" in str(err.value)


async def test_a_damaged_database_is_refused_at_a_checked_start(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.create(path, "TILL0001")
    await store.executemany("INSERT INTO kv VALUES (?, ?)",
                            [(f"k{i}", "x" * 200) for i in range(200)])
    await store.close()
    damage(path)
    con = sqlite3.connect(path)
    con.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    try:
        verdict = con.execute("PRAGMA integrity_check").fetchone()[0]
    except sqlite3.DatabaseError as exc:
        verdict = str(exc)
    con.close()
    assert verdict != "ok"  # the finding: SQLite itself says so
    with pytest.raises(StoreDamaged) as err:
        await Store.open(path, quick_check=True)
    assert "damaged" in str(err.value) and "terminal-agent restore" in str(err.value)


async def test_a_check_deferred_past_the_login_screen_still_refuses_a_damaged_file(tmp_path):
    """``check_later`` (the UI draws its login screen first): the quick_check runs at
    ``check_whole()``, once, and refuses the damaged file there."""
    from tests.test_ui_start import _ballast_damaged

    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    _ballast_damaged(path)
    store = await Store.open(path, quick_check=True, check_later=True)
    try:
        with pytest.raises(StoreDamaged) as err:
            await store.check_whole()
        assert "terminal-agent restore" in str(err.value)
        await store.check_whole()  # once: the process stops on the first verdict
    finally:
        await store.close()
    with pytest.raises(StoreDamaged):  # checked at once, as before, unless deferred
        await Store.open(path, quick_check=True)


# -- schema versions: migrate only when asked (finding 3) -------------------------------------


@pytest.fixture
def one_more_migration(monkeypatch):
    monkeypatch.setattr(schema, "MIGRATIONS", [*MIGRATIONS, "CREATE TABLE later (x);"])
    import terminal_agent.core.store as store_mod

    monkeypatch.setattr(store_mod, "MIGRATIONS", schema.MIGRATIONS)


def previous_version_file(tmp_path: Path) -> Path:
    """A database made by the previous version (every migration but the test's extra one)."""
    path = tmp_path / "agent.db"
    con = sqlite3.connect(path)
    for number, script in enumerate(MIGRATIONS, start=1):
        con.executescript(script)
        con.execute(f"PRAGMA user_version={number}")
    con.close()
    path.chmod(0o600)
    return path


async def test_an_older_schema_is_not_migrated_unless_asked(tmp_path, one_more_migration):
    path = previous_version_file(tmp_path)
    with pytest.raises(StoreVersion) as err:
        await Store.open(path)
    assert "terminal-agent migrate" in str(err.value)
    looking = await Store.open(path, read_only=True)   # status: looks, never migrates
    await looking.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    store = await Store.open(path, migrate=True, backup_dir=tmp_path / "backups")
    assert store.version == len(MIGRATIONS) + 1 and store.migrated_from == len(MIGRATIONS)
    await store.close()
    backup = store.pre_migration_backup
    assert backup is not None and f"pre-migration-v{len(MIGRATIONS)}" in backup.name
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert sqlite3.connect(backup).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_file_due_for_a_migration_is_checked_before_it_even_when_deferred(
        tmp_path, one_more_migration):
    from tests.test_ui_start import _ballast_damaged

    path = previous_version_file(tmp_path)
    _ballast_damaged(path)
    with pytest.raises(StoreDamaged):
        await Store.open(path, migrate=True, quick_check=True, check_later=True,
                         backup_dir=tmp_path / "backups")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)


async def test_a_newer_schema_is_refused_with_the_way_back(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.create(path, "TILL0001")).close()
    con = sqlite3.connect(path)
    con.execute(f"PRAGMA user_version={len(MIGRATIONS) + 1}")
    con.close()
    with pytest.raises(StoreVersion) as err:
        await Store.open(path)
    assert "newer" in str(err.value) and "terminal-agent restore" in str(err.value)
