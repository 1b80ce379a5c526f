"""The database: owner-only, WAL, synchronous=FULL, migrations, full disk refused cleanly."""

import os
import sqlite3
import stat

import pytest

from terminal_agent.core.schema import MIGRATIONS
from terminal_agent.core.store import Store
from terminal_agent.errors import InsecureFile, StoreFull


async def test_created_private_with_wal_and_full_sync(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.open(path)
    try:
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert (await store.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await store.fetchone("PRAGMA synchronous"))[0] == 2  # FULL
        assert (await store.fetchone("PRAGMA foreign_keys"))[0] == 1
        assert (await store.fetchone("PRAGMA user_version"))[0] == len(MIGRATIONS)
    finally:
        await store.close()


async def test_refuses_a_database_others_can_read(tmp_path):
    path = tmp_path / "agent.db"
    await (await Store.open(path)).close()
    os.chmod(path, 0o644)
    with pytest.raises(InsecureFile) as err:
        await Store.open(path)
    assert "chmod 600" in str(err.value)


async def test_reopen_keeps_data_and_does_not_rerun_migrations(tmp_path):
    path = tmp_path / "agent.db"
    store = await Store.open(path)
    async with store.transaction() as db:
        await db.execute("INSERT INTO kv VALUES ('a', '1')")
    await store.close()
    store = await Store.open(path)
    assert (await store.fetchone("SELECT value FROM kv WHERE key='a'"))[0] == "1"
    await store.close()


async def test_failed_step_rolls_back_whole(tmp_path):
    store = await Store.open(tmp_path / "agent.db")
    with pytest.raises(RuntimeError):
        async with store.transaction() as db:
            await db.execute("INSERT INTO kv VALUES ('b', '1')")
            raise RuntimeError("boom")
    assert await store.fetchone("SELECT * FROM kv WHERE key='b'") is None
    await store.close()


async def test_full_disk_refuses_new_writes_and_keeps_old_ones(tmp_path):
    store = await Store.open(tmp_path / "agent.db")
    async with store.transaction() as db:
        await db.execute("INSERT INTO kv VALUES ('kept', 'yes')")
    await store.set_page_limit(await store.page_count())
    with pytest.raises(StoreFull) as err:
        for i in range(1000):
            async with store.transaction() as db:
                await db.execute("INSERT INTO kv VALUES (?, ?)", (f"k{i}", "x" * 4000))
    assert "full" in str(err.value)
    assert (await store.fetchone("SELECT value FROM kv WHERE key='kept'"))[0] == "yes"
    await store.close()
    # nothing half-written: the file is a consistent database
    con = sqlite3.connect(tmp_path / "agent.db")
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
