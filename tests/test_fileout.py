"""The one file-output helper: atomic regular files, symlinks written through, devices never replaced, umask."""

from __future__ import annotations

import errno
import os
import stat
import threading
from pathlib import Path

import pytest

from pdguard.fileout import OutputError, place_output, write_output


def make_char_device(path: Path, minor: int = 3) -> Path:
    """A character device node in tmp (1,3 = null, 1,7 = full): never the machine's /dev/null."""
    try:
        os.mknod(path, stat.S_IFCHR | 0o666, os.makedev(1, minor))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot create a device node here ({exc.strerror}): needs root")
    return path


def test_new_file_respects_umask(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_output(tmp_path / "a.json", "{}\n")
        os.umask(0o077)
        write_output(tmp_path / "b.json", "{}\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o600
    assert (tmp_path / "a.json").read_text() == "{}\n"


def test_existing_file_keeps_its_mode_and_is_replaced_atomically(tmp_path: Path) -> None:
    p = tmp_path / "r.sarif"
    p.write_text("old")
    p.chmod(0o640)
    inode = p.stat().st_ino
    write_output(p, "new")
    assert p.read_text() == "new"
    assert stat.S_IMODE(p.stat().st_mode) == 0o640
    assert p.stat().st_ino != inode  # renamed into place, not rewritten in place
    assert [x.name for x in tmp_path.iterdir()] == ["r.sarif"]  # no temporary file left


def test_failure_keeps_the_old_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "snapshot.json"
    p.write_text("last good")

    def full(_fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=r"cannot write snapshot .*snapshot.json: no space left on device"):
        write_output(p, "half", what="snapshot")
    assert p.read_text() == "last good"
    assert [x.name for x in tmp_path.iterdir()] == ["snapshot.json"]


def test_symlink_is_written_through(tmp_path: Path) -> None:
    (tmp_path / "reports").mkdir()
    target = tmp_path / "reports" / "real.json"
    target.write_text("stale")
    target.chmod(0o604)
    link = tmp_path / "latest.json"
    link.symlink_to("reports/real.json")  # relative link
    chain = tmp_path / "chain.json"
    chain.symlink_to(link)
    write_output(chain, "fresh")
    assert link.is_symlink() and chain.is_symlink()
    assert os.readlink(link) == "reports/real.json"
    assert target.read_text() == "fresh" and link.read_text() == "fresh"
    assert stat.S_IMODE(target.stat().st_mode) == 0o604


@pytest.mark.parametrize("under", [False, True], ids=["the-link", "under-the-link"])
def test_dangling_symlink_is_refused_before_anything_is_created(tmp_path: Path, under: bool) -> None:
    """A link whose target does not exist (or a path under one) used to create the target and its
    missing directories wherever the link pointed: refused, nothing created, the link untouched."""
    link = tmp_path / "out"
    link.symlink_to(tmp_path / "elsewhere" / "deep" / "target")
    path = link / "r.md" if under else link
    src = tmp_path / "spool.json"
    src.write_text("{}")
    with pytest.raises(OutputError, match=r"cannot write report .*: .*symbolic link to .*which does not exist"):
        write_output(path, "# hi\n", what="report")
    with pytest.raises(OutputError, match="which does not exist"):
        place_output(path, src, what="report")
    assert sorted(x.name for x in tmp_path.iterdir()) == ["out", "spool.json"]  # no 'elsewhere'
    assert link.is_symlink() and src.read_text() == "{}"


def test_a_link_to_a_missing_link_is_dangling_too(tmp_path: Path) -> None:
    (tmp_path / "b").symlink_to(tmp_path / "gone" / "x")
    (tmp_path / "a").symlink_to(tmp_path / "b")
    with pytest.raises(OutputError, match="which does not exist"):
        write_output(tmp_path / "a", "x")
    assert not (tmp_path / "gone").exists()


def test_character_device_is_written_not_replaced(tmp_path: Path) -> None:
    dev = make_char_device(tmp_path / "null")
    write_output(dev, "x" * 10_000)
    st = dev.lstat()
    assert stat.S_ISCHR(st.st_mode) and os.major(st.st_rdev) == 1 and os.minor(st.st_rdev) == 3
    assert [x.name for x in tmp_path.iterdir()] == ["null"]


def test_full_device_is_a_one_line_error(tmp_path: Path) -> None:
    dev = make_char_device(tmp_path / "full", minor=7)
    with pytest.raises(OutputError, match="no space left on device"):
        write_output(dev, "data")
    assert stat.S_ISCHR(dev.lstat().st_mode)


def test_fifo_is_written_not_replaced(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    write_output(fifo, "through the pipe")
    reader.join(10)
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert got == [b"through the pipe"]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_directory_and_lone_surrogate(tmp_path: Path) -> None:
    with pytest.raises(OutputError, match="is a directory"):
        write_output(tmp_path, "x")
    write_output(tmp_path / "s.txt", "bad \ud800 char")
    assert (tmp_path / "s.txt").read_bytes() == b"bad ? char"


def test_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    write_output("-", "to stdout\n")
    assert capsys.readouterr().out == "to stdout\n"


def test_place_output_on_a_device_writes_it_and_removes_the_finished_file(tmp_path: Path) -> None:
    dev = make_char_device(tmp_path / "null")
    src = tmp_path / "spool.json"
    src.write_text("{}")
    place_output(dev, src, what="snapshot")
    assert stat.S_ISCHR(dev.lstat().st_mode)
    assert not src.exists()  # no stray copy of the snapshot left behind


def test_place_output_across_file_systems_copies_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """os.replace fails with EXDEV (the spool on another file system): the copy is written like
    write_output's, so a failure (here a full disk at fsync) leaves the old snapshot as it was."""
    target = tmp_path / "snapshot.json"
    target.write_text("old")
    target.chmod(0o640)
    real_replace = os.replace
    spool = tmp_path / "spool"
    spool.mkdir()

    def replace(a, b):
        if Path(a).parent == spool:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(a, b)

    monkeypatch.setattr(os, "replace", replace)
    (spool / "a.json").write_text("new")
    place_output(target, spool / "a.json")
    assert target.read_text() == "new" and not (spool / "a.json").exists()
    assert stat.S_IMODE(target.stat().st_mode) == 0o640

    (spool / "b.json").write_text("newer")

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    with pytest.raises(OutputError, match="no space left on device"):
        place_output(target, spool / "b.json")
    assert target.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary file left
