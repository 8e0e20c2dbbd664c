"""`ducha init`: a workspace from nothing (ducha.toml, folders, a private secret, a .gitignore),
what to do next in Chinese, nothing ever overwritten; and defaults that carry no real person."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import sys
import tomllib
from dataclasses import fields
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from tests.conftest import ROOT
from toolkit import config as config_module
from toolkit.cli.app import cli
from toolkit.config import BUNDLED_CONFIG, Bureau, load_config
from toolkit.doctor import run_doctor

CJK = re.compile(r"[\u4e00-\u9fff]")
POSIX = os.name == "posix"


def init(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["init", *args], prog_name="ducha")
    return result.exit_code, result.output


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file and folder under root: content, mtime (ns) and mode."""
    found = {}
    for path in sorted(root.rglob("*")):
        st = path.stat()
        found[str(path.relative_to(root))] = (path.read_bytes() if path.is_file() else None, st.st_mtime_ns,
                                              st.st_mode)
    return found


def test_init_makes_a_workspace_and_says_what_to_do_next(tmp_path: Path) -> None:
    root = tmp_path / "督查2025"
    code, out = init(str(root), "--city", "洛阳市", "--year", "2025", "--bureau", "市委市政府督查局")
    assert code == 0, out
    assert out == (
        f"已建立工作区：{root}\n"
        "  新建 ducha.toml　配置文件：每一项都有中文说明\n"
        "  新建 outbox/　下发文件夹\n"
        "  新建 drop/　收件夹\n"
        "  新建 archive/　归档文件夹\n"
        "  新建 reports/　汇总输出文件夹\n"
        "  新建 data/　通知文件夹\n"
        "  新建 .ducha_secret　密钥：仅本账户可读；签名下发的填报表，切勿外发，请单独备份\n"
        "  新建 .gitignore　版本管理忽略清单：列出不可提交、不可外发的文件\n"
        "下一步：\n"
        f"  1. 进入工作区：cd \"{root}\"（以后的命令都在这个文件夹里运行）\n"
        "  2. 用记事本打开 ducha.toml，在 [bureau] 中填写督查局的联系人、电话、邮箱和地址（现在是示例值）\n"
        "  3. 把任务分解通知（.docx、.pdf、.html、.txt 或 .md）放进 data 文件夹，运行 ducha ledger import "
        "data/通知文件名，生成总台账；任务不是来自这样的通知时，运行 ducha ledger template，得到空白总台账，照示例行填写\n"
        "  4. 运行 ducha doctor 检查工作区\n"
    )
    assert sorted(p.name for p in root.iterdir()) == [".ducha_secret", ".gitignore", "archive", "data", "drop",
                                                      "ducha.toml", "outbox", "reports"]
    assert all((root / name).is_dir() for name in ("archive", "data", "drop", "outbox", "reports"))
    bureau = load_config(root).bureau
    assert (bureau.city, bureau.year, bureau.name) == ("洛阳市", 2025, "市委市政府督查局")
    assert len(bytes.fromhex((root / ".ducha_secret").read_text(encoding="ascii").strip())) == 32


@pytest.mark.skipif(not POSIX, reason="mode bits are advisory on Windows")
def test_the_secret_is_readable_by_its_owner_only(tmp_path: Path) -> None:
    old = os.umask(0)  # even with a permissive umask
    try:
        assert init(str(tmp_path / "ws"))[0] == 0
    finally:
        os.umask(old)
    assert (tmp_path / "ws" / ".ducha_secret").stat().st_mode & 0o777 == 0o600


def test_the_new_ducha_toml_is_the_bundled_one_with_the_bureau_filled_in(tmp_path: Path) -> None:
    assert init(str(tmp_path), "--city", "洛阳市", "--year", "2025", "--bureau", "市委“督查”局")[0] == 0
    written = (tmp_path / "ducha.toml").read_text(encoding="utf-8").splitlines()
    bundled = BUNDLED_CONFIG.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(bundled, written, strict=True) if a != b]
    assert [b.split("#")[0].strip() for _a, b in changed] == [
        'city     = "洛阳市"', "year     = 2025", 'name     = "市委“督查”局"']
    assert all(a.split("#")[1] == b.split("#")[1] for a, b in changed)  # the comments are kept


def test_the_year_defaults_to_this_year_on_the_bureaus_clock(tmp_path: Path) -> None:
    before = dt.datetime.now(ZoneInfo("Asia/Shanghai")).year
    assert init(str(tmp_path))[0] == 0
    assert load_config(tmp_path).bureau.year in (before, dt.datetime.now(ZoneInfo("Asia/Shanghai")).year)
    assert load_config(tmp_path).bureau.city == "开封市"


def _documented(text: str) -> dict[str, dict[str, bool]]:
    """section → key → whether a Chinese comment goes with it (on its line or just above it);
    commented-out keys (# host = …) count as present."""
    found: dict[str, dict[str, bool]] = {}
    section, comments = "", []
    for line in text.splitlines():
        header = re.match(r"^\[([^\]]+)\]", line)
        key = re.match(r'^#?\s*"?([A-Za-z0-9_]+)"?\s*=', line)
        if header:
            section, comments = header[1], []
            found[section] = {"": bool(CJK.search(line))}
        elif key:
            note = line.split("#", 2)[-1] if "#" in line[1:] else ""
            found[section][key[1]] = bool(CJK.search(note)) or any(CJK.search(c) for c in comments)
            comments = comments if line.startswith("#") else []
        elif line.startswith("#"):
            comments.append(line)
            if section:
                found[section][""] = found[section][""] or bool(CJK.search(line))
        else:
            comments = []
    return found


def test_every_key_ducha_reads_is_in_the_new_ducha_toml_with_a_chinese_comment_and_its_default(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ducha doctor reads every section (that is its job), so recording what it reads lists every
    key of every section: each must be in the ducha.toml init writes, explained in Chinese, and a
    value written there must be the default config.py uses when the key is left out."""
    assert init(str(tmp_path), "--city", "洛阳市")[0] == 0
    real = config_module.read_section
    seen: list[tuple[str, tuple[type, ...], bool]] = []

    def spy(data, section, *classes, extra=None):
        seen.append((section, classes, extra is not None))
        return real(data, section, *classes, extra=extra)

    for module in [m for name, m in sys.modules.items() if name.startswith("toolkit")]:
        if getattr(module, "read_section", None) is real:
            monkeypatch.setattr(module, "read_section", spy)
    assert run_doctor(tmp_path).checks[0].status == "ok"
    text = (tmp_path / "ducha.toml").read_text(encoding="utf-8")
    documented, raw = _documented(text), tomllib.loads(text)
    assert {s for s, _c, _e in seen} >= {"paths", "bureau", "deadlines", "limits", "mail", "schedule", "briefing"}
    missing, silent, drifted = [], [], []
    for section, classes, extra in seen:
        keys = documented.get(section, {})
        if extra and not keys.get(""):
            silent.append(f"[{section}]")
        for cls in classes:
            for f in fields(cls):
                if f.name not in keys:
                    missing.append(f"[{section}] {f.name}")
                elif not keys[f.name]:
                    silent.append(f"[{section}] {f.name}")
            written = {f.name: raw[section][f.name] for f in fields(cls) if f.name in raw.get(section, {})}
            typed, default = real(written, section, cls), cls()
            drifted += [f"[{section}] {k}" for k in written
                        if getattr(typed, k) != getattr(default, k) and (section, k) not in
                        {("bureau", "city"), ("bureau", "year")}]
    assert (missing, silent, drifted) == ([], [], [])


def test_a_second_init_changes_nothing(tmp_path: Path) -> None:
    assert init(str(tmp_path), "--year", "2025")[0] == 0
    before = snapshot(tmp_path)
    code, out = init(str(tmp_path), "--year", "2025")
    assert code == 0
    assert out.startswith(f"工作区已存在，没有改动任何文件：{tmp_path}\n下一步：\n")
    assert "新建" not in out
    assert snapshot(tmp_path) == before


def test_init_never_overwrites_and_follows_the_existing_paths(tmp_path: Path) -> None:
    toml = '[paths]\ndrop = "收件"\n\n[bureau]\ncity = "洛阳市"\ncontact = "某某"\n'
    (tmp_path / "ducha.toml").write_text(toml, encoding="utf-8")
    (tmp_path / ".gitignore").write_text("*.pyc\n", encoding="utf-8")
    (tmp_path / ".ducha_secret").write_text("ab" * 32 + "\n", encoding="ascii")
    os.chmod(tmp_path / ".ducha_secret", 0o600)
    kept = {name: snapshot(tmp_path)[name] for name in ("ducha.toml", ".gitignore", ".ducha_secret")}
    code, out = init(str(tmp_path), "--city", "郑州市", "--year", "2024")
    assert code == 0, out
    assert {name: snapshot(tmp_path)[name] for name in kept} == kept
    assert (tmp_path / "收件").is_dir() and not (tmp_path / "drop").exists()
    assert "  新建 收件/　收件夹\n" in out
    assert "  已有、未改动：ducha.toml、.ducha_secret、.gitignore\n" in out
    assert ("注意：ducha.toml 已存在，未改动，--city 郑州市 没有生效（其中为 洛阳市）；如需修改，请直接编辑 ducha.toml\n"
            in out)
    assert "--year" not in out  # 2024 is what the file says (the default)


def test_a_file_in_the_way_of_a_folder_is_a_chinese_error(tmp_path: Path) -> None:
    (tmp_path / "drop").write_text("", encoding="utf-8")
    code, out = init(str(tmp_path))
    assert code == 1
    assert out.endswith(f"错误：{tmp_path / 'drop'} 是文件，不是文件夹：请移走它，或在 ducha.toml [paths] 中换一个位置，"
                        "再运行 ducha init\n")


def test_init_without_a_folder_uses_the_current_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, out = init()
    assert code == 0, out
    assert (tmp_path / "ducha.toml").exists()
    assert "cd " not in out  # already there


def test_json_lists_what_was_made(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path), "--json"])
    data = json.loads(result.output)
    assert [(Path(i["path"]).name, i["created"]) for i in data["items"]] == [
        ("ducha.toml", True), ("outbox", True), ("drop", True), ("archive", True), ("reports", True),
        ("data", True), (".ducha_secret", True), (".gitignore", True)]
    assert data["placeholders"] == ["contact", "phone", "email", "address"] and data["has_ledger"] is False


def test_the_gitignore_keeps_the_secret_and_the_store_out(tmp_path: Path) -> None:
    assert init(str(tmp_path))[0] == 0
    lines = (tmp_path / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert [line for line in lines if not line.startswith("#")] == [
        ".ducha_secret", "ducha.db", "ducha.db-*", ".ducha.lock", ".ducha_ledger.cache", ".*.tmp"]


# --- after init: ducha doctor points to the next step --------------------------------------------


def test_doctor_after_init_says_import_the_notice_and_fill_in_the_bureau(tmp_path: Path) -> None:
    assert init(str(tmp_path))[0] == 0
    result = CliRunner().invoke(cli, ["--config", str(tmp_path), "doctor"])
    assert result.exit_code == 1
    assert (f"✗ 总台账：{tmp_path / 'master_ledger.xlsx'} 不存在\n"
            "    → 运行 ducha ledger import 通知文件（.docx、.pdf、.html、.txt 或 .md），按任务分解通知生成总台账；"
            "任务不是来自这样的通知时，运行 ducha ledger template 生成空白总台账\n") in result.output
    assert "ducha ledger build" not in result.output
    assert ("⚠ 督查局信息：ducha.toml [bureau] 中联系人 contact、联系电话 phone、邮箱 email、地址 address 仍为示例值\n"
            "    → 请在 ducha.toml [bureau] 中填写督查局自己的联系方式：它们会写进下发的填报表、回执和邮件\n") in result.output
    for name in ("secret", "folder.outbox", "folder.drop", "folder.archive", "folder.reports"):
        check = next(c for c in run_doctor(tmp_path).checks if c.key == name)
        assert check.status == "ok", check


def test_doctor_is_quiet_about_the_bureau_once_it_is_filled_in(tmp_path: Path) -> None:
    assert init(str(tmp_path))[0] == 0
    path = tmp_path / "ducha.toml"
    text = path.read_text(encoding="utf-8")
    for key, value in (("contact", "王五"), ("phone", "0371-12345678"), ("email", "dc@bureau.example.cn"),
                       ("address", "市政府大楼")):
        text = re.sub(rf'(?m)^{key}(\s*)= "[^"]*"', rf'{key}\1= "{value}"', text, count=1)
    path.write_text(text, encoding="utf-8")
    bureau = next(c for c in run_doctor(tmp_path).checks if c.key == "bureau")
    assert (bureau.status, bureau.detail) == ("ok", "开封市市政府督查局，联系人 王五")


def test_doctor_still_says_build_when_the_notice_is_there(tmp_path: Path) -> None:
    assert init(str(tmp_path))[0] == 0
    (tmp_path / "data" / "kaifeng-2024-gov-report-tasks.md").write_text("一、\n", encoding="utf-8")
    ledger = next(c for c in run_doctor(tmp_path).checks if c.key == "ledger")
    assert ledger.fix == "运行 ducha ledger build，按通知生成总台账"


# --- the defaults carry no real person -------------------------------------------------------------


def test_the_shipped_contact_details_are_placeholders() -> None:
    assert Bureau().placeholders() == ["contact", "phone", "email", "address"]
    shipped = tomllib.loads(BUNDLED_CONFIG.read_text(encoding="utf-8"))["bureau"]
    assert {k: shipped[k] for k in ("contact", "phone", "email", "address")} == {
        "contact": "（请填写联系人）", "phone": "（请填写联系电话）", "email": "ducha@example.com",
        "address": "（请填写办公地址）"}


def test_no_phone_number_ships_in_the_config_or_the_templates() -> None:
    phone = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|0\d{2,3}-?\d{7,8}|\d{8})(?!\d)")
    shipped = [BUNDLED_CONFIG, *sorted((ROOT / "templates").glob("*.j2")), ROOT / "toolkit" / "config.py"]
    assert {p.name: phone.findall(p.read_text(encoding="utf-8")) for p in shipped
            if phone.search(p.read_text(encoding="utf-8"))} == {}
