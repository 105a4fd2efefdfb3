"""`kontext create-key | list-keys | revoke-key`, run as commands from any folder."""

from __future__ import annotations

from pathlib import Path

from tests.cli.support import clean_environment, kontext


def test_the_default_database_is_the_same_from_every_folder(tmp_path: Path) -> None:
    home, here, elsewhere = tmp_path / "home", tmp_path / "here", tmp_path / "elsewhere"
    for folder in (home, here, elsewhere):
        folder.mkdir()
    env = clean_environment(home)
    created = kontext("create-key", "alice", "--name", "laptop", cwd=here, env=env)
    database = home / ".local/share/kontext/kontext.sqlite3"
    assert f"database: sqlite://{database}" in created.stderr
    listed = kontext("list-keys", cwd=elsewhere, env=env)
    assert "alice" in listed.stdout and "laptop" in listed.stdout
    assert not (here / "data").exists() and not (elsewhere / "data").exists()


def test_a_relative_database_path_is_resolved_once_and_printed(tmp_path: Path) -> None:
    env = clean_environment(tmp_path, KONTEXT_DATABASE_URL="sqlite://db/keys.sqlite3")
    created = kontext("create-key", "alice", cwd=tmp_path, env=env)
    assert f"database: sqlite://{tmp_path}/db/keys.sqlite3" in created.stderr


def test_list_keys_shows_id_owner_name_created_and_last_used_never_the_secret(
    tmp_path: Path,
) -> None:
    env = clean_environment(tmp_path)
    created = kontext("create-key", "alice", "--name", "alice's laptop", cwd=tmp_path, env=env)
    token = created.stdout.strip().splitlines()[-1]
    _, key_id, secret = token.split("_", 2)  # the secret is base64url: it may hold "_"
    listed = kontext("list-keys", cwd=tmp_path, env=env).stdout
    header, row = listed.strip().splitlines()
    assert header.split() == ["ID", "OWNER", "NAME", "CREATED", "(UTC)", "LAST", "USED", "(UTC)"]
    assert row.startswith(key_id) and "alice's laptop" in row and row.endswith("never")
    assert token not in listed and secret not in listed


def test_revoke_key_takes_the_key_itself_or_its_id(tmp_path: Path) -> None:
    env = clean_environment(tmp_path)
    by_key = kontext("create-key", "alice", cwd=tmp_path, env=env).stdout.splitlines()[-1]
    by_id = kontext("create-key", "bob", cwd=tmp_path, env=env).stdout.splitlines()[-1]
    assert kontext("revoke-key", by_key, cwd=tmp_path, env=env).stdout.startswith("revoked")
    bob_id = by_id.split("_")[1]
    assert kontext("revoke-key", bob_id, cwd=tmp_path, env=env).stdout == f"revoked {bob_id}\n"
    assert kontext("list-keys", cwd=tmp_path, env=env).stdout.strip().count("\n") == 0
    everything = kontext("list-keys", "--all", cwd=tmp_path, env=env).stdout
    assert "REVOKED" in everything and everything.count("\n") == 3


def test_revoke_key_says_what_it_wants_when_given_neither(tmp_path: Path) -> None:
    env = clean_environment(tmp_path)
    refused = kontext("revoke-key", "not-a-key", cwd=tmp_path, env=env, check=False)
    assert refused.returncode == 2
    assert "Traceback" not in refused.stderr
    assert "key id" in refused.stderr and "kx_" in refused.stderr
