"""Drop-folder intake: scanning, format sniffing from bytes, limits, archiving by hash."""

from __future__ import annotations

import hashlib
import os
import tomllib
import zipfile
from pathlib import Path

import pytest

from tests.return_fixtures import COMMERCE, compound_file, issue
from toolkit.config import load_config
from toolkit.errors import ConfigError, DuchaError
from toolkit.intake import archive, sniff
from toolkit.intake.sniff import Limits

ROOT = Path(__file__).resolve().parent.parent


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def zip_bytes(tmp_path: Path, members: dict[str, bytes], name: str = "z.zip") -> bytes:
    path = tmp_path / name
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for member, data in members.items():
            zf.writestr(member, data)
    return path.read_bytes()


def test_scan_finds_every_returned_file_recursively_in_a_stable_order(tmp_path):
    drop = tmp_path / "drop"
    for name in ["市商务局(1).xlsx", "b/一季度报表-最终版.xls", "a/z.xlsx", "a/no extension", "a/报表.PDF"]:
        write(drop / name, b"x")
    for name in ["~$市商务局.xlsx", ".~lock.x.xlsx#", ".hidden.xlsx", "a/Thumbs.db", "a/desktop.ini",
                 ".git/config", "a/.市商务局.xlsx.tmp"]:
        write(drop / name, b"x")
    found = [p.relative_to(drop).as_posix() for p in archive.scan(drop)]
    assert found == ["a/no extension", "a/z.xlsx", "a/报表.PDF", "b/一季度报表-最终版.xls", "市商务局(1).xlsx"]


@pytest.mark.skipif(not hasattr(os, "symlink") or os.name == "nt", reason="symlinks need privileges on Windows")
def test_scan_takes_a_linked_file_but_never_leaves_the_folder_by_a_linked_folder(tmp_path):
    drop, outside = tmp_path / "drop", tmp_path / "outside"
    write(outside / "别处.xlsx", b"x")
    write(drop / "a.xlsx", b"x")
    (drop / "linked-folder").symlink_to(outside, target_is_directory=True)
    (drop / "linked.xlsx").symlink_to(outside / "别处.xlsx")
    (drop / "broken.xlsx").symlink_to(tmp_path / "gone.xlsx")
    assert [p.relative_to(drop).as_posix() for p in archive.scan(drop)] == ["a.xlsx", "linked.xlsx"]


def test_scan_of_a_missing_folder_says_which_folder(tmp_path):
    with pytest.raises(DuchaError, match="收件夹不存在"):
        archive.scan(tmp_path / "nowhere")


def test_file_facts_hash_size_and_received_time_from_mtime(tmp_path):
    path = write(tmp_path / "f.xlsx", b"hello")
    os.utime(path, (1711000000, 1711000000))  # 2024-03-21 05:46:40 UTC
    sha, size, received = archive.file_facts(path)
    assert sha == hashlib.sha256(b"hello").hexdigest() and size == 5
    import datetime as dt

    assert received == dt.datetime.fromtimestamp(1711000000).isoformat()


@pytest.fixture
def generated(tmp_path) -> Path:
    return issue(tmp_path / "outbox", COMMERCE)


def test_sniff_a_generated_workbook_is_xlsx_whatever_its_name(tmp_path, generated):
    assert sniff.sniff(generated) == "xlsx"
    assert sniff.sniff(write(tmp_path / "报表.pdf", generated.read_bytes())) == "xlsx"


@pytest.mark.parametrize(
    ("data", "fmt"),
    [
        (b"", "empty"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "pdf"),
        (b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", "image"),
        (b"\xff\xd8\xff\xe0\0\x10JFIF", "image"),
        (b"GIF89a\x01\0\x01\0", "image"),
        (b"RIFF\x10\0\0\0WEBPVP8 ", "image"),
        (b'<html xmlns:x="urn:schemas-microsoft-com:office:excel"><body><table><tr><td>1</td></tr></table>', "html"),
        ("\ufeff<!DOCTYPE html><html><head><meta charset=utf-8></head>".encode(), "html"),
        ("<html><table><tr><td>进展</td></tr></table></html>".encode("utf-16"), "html"),
        (b'<?xml version="1.0"?>\n<Workbook xmlns="urn:schemas-microsoft-com:office:spreadsheet">', "xml"),
        (b"task,status\n1,done\n", "unknown"),
        (compound_file(("Workbook",)), "xls"),
        (compound_file(("Book",)), "xls"),
        (compound_file(("EncryptionInfo", "EncryptedPackage")), "encrypted"),
        (compound_file(("WordDocument",)), "unknown"),
        (compound_file(("Workbook",), cut=700), "truncated"),
        (b"PK\x03\x04\x14\0\0\0\x08\0", "truncated"),
    ],
)
def test_sniff_from_bytes(tmp_path, data, fmt):
    assert sniff.sniff(write(tmp_path / "x.xlsx", data)) == fmt


def test_sniff_zip_family(tmp_path, generated):
    macro = zip_bytes(tmp_path, {
        "[Content_Types].xml": b'<Types><Override ContentType="application/vnd.ms-excel.sheet.macroEnabled.main+xml"/></Types>',
        "xl/workbook.xml": b"<workbook/>", "xl/vbaProject.bin": b"\0"})
    ods = zip_bytes(tmp_path, {"mimetype": b"application/vnd.oasis.opendocument.spreadsheet", "content.xml": b"<x/>"})
    odt = zip_bytes(tmp_path, {"mimetype": b"application/vnd.oasis.opendocument.text", "content.xml": b"<x/>"})
    other = zip_bytes(tmp_path, {"readme.txt": b"hello"})
    half = generated.read_bytes()[: generated.stat().st_size // 2]
    cases = {"m.xlsx": (macro, "xlsm"), "o.xls": (ods, "ods"), "t.ods": (odt, "zip"), "r.xlsx": (other, "zip"),
             "half.xlsx": (half, "truncated")}
    for name, (data, fmt) in cases.items():
        assert sniff.sniff(write(tmp_path / "cases" / name, data)) == fmt, name


def test_limits_turn_away_zip_bombs_and_oversized_files_before_parsing(tmp_path, generated):
    assert sniff.check_limits(generated, "xlsx", Limits()) is None
    bomb = write(tmp_path / "bomb.xlsx", zip_bytes(tmp_path, {"xl/worksheets/sheet1.xml": b"\0" * (8 << 20)}))
    assert "压缩比" in sniff.check_limits(bomb, "xlsx", Limits())
    assert "解压后共 8.0 MB" in sniff.check_limits(bomb, "xlsx", Limits(max_uncompressed_mb=5, max_ratio=1e9))
    many = write(tmp_path / "many.xlsx", zip_bytes(tmp_path, {f"m{i}.xml": b"x" for i in range(30)}))
    assert "30 个部件" in sniff.check_limits(many, "xlsx", Limits(max_members=20))
    assert "超过上限 0.001 MB" in sniff.check_limits(generated, "xlsx", Limits(max_file_mb=0.001))


def test_limits_come_from_ducha_toml_and_the_shipped_file_documents_the_defaults(tmp_path):
    shipped = tomllib.loads((ROOT / "ducha.toml").read_text(encoding="utf-8"))["limits"]
    assert Limits(**shipped) == Limits()
    (tmp_path / "ducha.toml").write_text("[limits]\nmax_file_mb = 5\nrow_margin = 10\n", encoding="utf-8")
    assert Limits.from_config(load_config(tmp_path)) == Limits(max_file_mb=5.0, row_margin=10)
    (tmp_path / "ducha.toml").write_text("[limits]\nmax_size = 5\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="未知配置项：max_size"):
        Limits.from_config(load_config(tmp_path))
    (tmp_path / "ducha.toml").write_text("[limits]\nmax_cells = -1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="max_cells 应为正数"):
        Limits.from_config(load_config(tmp_path))


def test_archive_copies_by_hash_keeps_the_received_time_and_never_touches_the_original(tmp_path, generated):
    dropped = write(tmp_path / "drop" / "商务局 最终版.XLSX", generated.read_bytes())
    os.utime(dropped, (1711000000, 1711000000))
    before = dropped.read_bytes()
    sha, _, received = archive.file_facts(dropped)
    target = archive.archive(dropped, tmp_path / "archive" / "2024Q1", sha)
    assert target == tmp_path / "archive" / "2024Q1" / f"{sha}.xlsx"
    assert target.read_bytes() == before == dropped.read_bytes()
    assert archive.file_facts(target) == (sha, len(before), received)
    assert sorted(p.name for p in target.parent.iterdir()) == [target.name]  # no temp file left


def test_archive_is_idempotent_and_refuses_a_file_that_changed_since_hashing(tmp_path, generated):
    sha = archive.file_facts(generated)[0]
    first = archive.archive(generated, tmp_path / "archive", sha)
    stamp = first.stat().st_mtime_ns, first.stat().st_ino
    assert archive.archive(generated, tmp_path / "archive", sha) == first
    assert (first.stat().st_mtime_ns, first.stat().st_ino) == stamp
    with pytest.raises(DuchaError, match="被修改"):
        archive.archive(generated, tmp_path / "other", "0" * 64)
    assert not (tmp_path / "other" / f"{'0' * 64}.xlsx").exists()


def test_archive_of_a_file_with_an_odd_name_gets_no_odd_suffix(tmp_path):
    dropped = write(tmp_path / "报表.x l s", b"data")
    sha = archive.file_facts(dropped)[0]
    assert archive.archive(dropped, tmp_path / "archive", sha).name == sha


def test_received_time_is_on_the_bureaus_clock_not_the_computers(tmp_path, monkeypatch):
    """On a server set to UTC, a file saved at 07:00 Beijing time on the 29th is received on the
    29th (late), not at 23:00 on the 28th (on time)."""
    import datetime as dt
    import os
    import time
    from zoneinfo import ZoneInfo

    from toolkit.config import load_config
    from toolkit.intake.archive import file_facts
    from toolkit.period import Period
    from toolkit.quarter.rules import is_late

    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    try:
        path = tmp_path / "return.xlsx"
        path.write_bytes(b"PK")
        saved = dt.datetime(2024, 3, 29, 7, 0, tzinfo=ZoneInfo("Asia/Shanghai")).timestamp()
        os.utime(path, (saved, saved))
        (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
        zone = load_config(tmp_path).bureau.zone
        received = file_facts(path, zone)[2]
        assert received == "2024-03-29T07:00:00"
        assert is_late(received, Period.parse("2024Q1"))
        assert file_facts(path)[2] == "2024-03-28T23:00:00"  # the computer's clock, which misled before
    finally:
        monkeypatch.delenv("TZ")
        time.tzset()


def test_the_bureau_time_zone_is_a_setting_checked_by_name(tmp_path):
    from toolkit.config import load_config
    from toolkit.errors import ConfigError

    (tmp_path / "ducha.toml").write_text('[bureau]\ntimezone = "Asia/Urumqi"\n', encoding="utf-8")
    assert load_config(tmp_path).bureau.zone.key == "Asia/Urumqi"
    (tmp_path / "ducha.toml").write_text('[bureau]\ntimezone = "北京时间"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[bureau\] timezone 应为时区名"):
        load_config(tmp_path)
