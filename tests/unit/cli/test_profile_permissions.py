"""Saved profiles hold API secrets: a location others can read or write is fixed, one others own is refused."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from crossmargin.cli.client import Credentials
from crossmargin.cli.profiles import Profile, ProfileError, load_profile, save_profile

PROFILE = Profile("alice", 1, 2, Credentials("api-key", "api-secret"), "http://127.0.0.1:8080")
NOBODY = 65_534


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CROSSMARGIN_CONFIG_DIR", str(tmp_path / "config"))
    return tmp_path / "config"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_new_config_dir_is_created_private_without_a_note(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = save_profile(PROFILE)
    assert path == config / "profiles" / "alice.json"
    assert (mode(config), mode(config / "profiles"), mode(path)) == (0o700, 0o700, 0o600)
    assert capsys.readouterr().err == "", "nothing was fixed, so nothing is said"


def test_loading_from_a_location_others_can_read_makes_it_private_and_says_so(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = save_profile(PROFILE)
    config.chmod(0o755)
    path.parent.chmod(0o770)
    path.chmod(0o644)
    capsys.readouterr()

    assert load_profile("alice") == PROFILE
    assert (mode(config), mode(path.parent), mode(path)) == (0o700, 0o700, 0o600)
    note = capsys.readouterr().err
    assert note.count("\n") == 1, f"one line says what was fixed: {note!r}"
    assert f"{config} was 0755, now 0700" in note
    assert f"{path.parent} was 0770, now 0700" in note
    assert f"{path} was 0644, now 0600" in note


def test_saving_into_a_config_dir_others_can_write_fixes_it_first(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config.mkdir()
    config.chmod(0o777)
    save_profile(PROFILE)
    assert mode(config) == 0o700
    assert f"{config} was 0777, now 0700" in capsys.readouterr().err


def test_a_config_dir_owned_by_someone_else_is_refused_and_left_as_it_is(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    save_profile(PROFILE)
    config.chmod(0o755)
    owner = config.stat().st_uid
    monkeypatch.setattr(os, "geteuid", lambda: owner + 1)
    with pytest.raises(ProfileError, match="not by you") as refused:
        load_profile("alice")
    assert str(config) in str(refused.value)
    assert "CROSSMARGIN_CONFIG_DIR" in str(refused.value), "the error says how to get out of it"
    assert mode(config) == 0o755, "another user's directory is not ours to change"
    with pytest.raises(ProfileError, match="not by you"):
        save_profile(PROFILE)


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="only root can give a file away")
def test_a_profile_file_given_to_another_user_is_refused(config: Path) -> None:
    path = save_profile(PROFILE)
    os.chown(path, NOBODY, -1)
    with pytest.raises(ProfileError, match=f"uid {NOBODY}"):
        load_profile("alice")
    with pytest.raises(ProfileError, match="not by you"):
        save_profile(PROFILE)
    assert path.stat().st_uid == NOBODY


def test_a_shared_sticky_directory_like_tmp_is_refused_not_locked_down(config: Path) -> None:
    config.mkdir()
    config.chmod(0o1777)
    with pytest.raises(ProfileError, match="shared directory"):
        save_profile(PROFILE)
    assert mode(config) == 0o1777, "a shared directory such as /tmp keeps its mode"
    assert not (config / "profiles").exists(), "no secret is written there"
