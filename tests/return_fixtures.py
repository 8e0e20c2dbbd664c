"""A small ledger and real generated workbooks for the intake, reader and check tests.

Workbooks come from toolkit.forms.writer.write_workbook, the generator units receive, so the tests
check the files the bureau actually sends out, filled by toolkit/demo/unitsim.py."""

from __future__ import annotations

from pathlib import Path

from toolkit.config import Bureau
from toolkit.forms.writer import write_workbook
from toolkit.intake.check import check_file
from toolkit.intake.sniff import Limits
from toolkit.model import CheckedFile, Indicator, Ledger, Task, Unit
from toolkit.period import Period

SECRET = bytes(range(32))
PERIOD = Period.parse("2024Q1")
NDRC = "市发展改革委"
COMMERCE = "市商务局"
LONGTING = "龙亭区"
SHUNHE = "顺河区"


def small_ledger() -> Ledger:
    """发改委 leads 1 (with an indicator) and co-owns 2; 商务局 leads 2 and 3; 各县区 落实 3."""
    units = [
        Unit(NDRC, "市直部门", aliases=("市发改委",)),
        Unit(COMMERCE, "市直部门"),
        Unit(LONGTING, "县区", groups=("各县区",)),
        Unit(SHUNHE, "县区", groups=("各县区",)),
        Unit("各县区", "分组"),
    ]
    tasks = [
        Task(1, "一、主要预期目标", "主要预期目标", "地区生产总值增长6.5%。", ("常务副市长",), NDRC, NDRC),
        Task(2, "二、全年重点工作", "（一）扩大有效需求", "社会消费品零售总额增长6%。", ("张三", "李四"),
             f"{COMMERCE}、{NDRC}", COMMERCE, co=(NDRC,)),
        Task(3, "二、全年重点工作", "（一）扩大有效需求", "开展促消费活动100场以上。", ("张三",),
             f"{COMMERCE}，各县区", COMMERCE, county=("各县区",)),
        Task(4, "二、全年重点工作", "（二）建设现代化产业体系", "新建5G基站1000个。", ("李四",), COMMERCE, COMMERCE),
    ]
    indicators = [Indicator(1, "地区生产总值增长", 6.5, "%", "≈", "地区生产总值增长6.5%")]
    return Ledger(tasks, units, indicators)


def issue(folder: Path, unit: str, period: Period = PERIOD, ledger: Ledger | None = None) -> Path:
    """The workbook the bureau sends unit for period, written into folder."""
    ledger = ledger or small_ledger()
    path = folder / f"{period.key}_{unit}.xlsx"
    folder.mkdir(parents=True, exist_ok=True)
    write_workbook(
        path,
        unit=unit,
        assignments=ledger.assignments()[unit],
        indicators=ledger.indicators_for(unit),
        period=period,
        bureau=Bureau(),
        secret=SECRET,
        generated_at="2024-03-01T09:00:00",
    )
    return path


def check(path: Path, original: Path | None = None, limits: Limits | None = None) -> CheckedFile:
    return check_file(
        path, ledger=small_ledger(), period=PERIOD, secret=SECRET, limits=limits or Limits(), original_path=original
    )


def compound_file(streams: tuple[str, ...], cut: int | None = None) -> bytes:
    """A minimal OLE2 compound file whose root holds empty streams with these names: Excel 97–2003
    has "Workbook"; a password-protected .xlsx has "EncryptionInfo" and "EncryptedPackage".
    cut truncates the bytes, as an interrupted download does."""
    assert len(streams) <= 3, "one directory sector holds the root and three streams"
    end, free = 0xFFFFFFFE, 0xFFFFFFFF
    header = bytearray(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(16))
    header += (0x3E).to_bytes(2, "little") + (3).to_bytes(2, "little") + b"\xfe\xff"
    header += (9).to_bytes(2, "little") + (6).to_bytes(2, "little") + bytes(6)
    for value in (0, 1, 1, 0, 4096, end, 0, end, 0):  # dir sectors, FAT sectors, first dir, …
        header += value.to_bytes(4, "little")
    header += (0).to_bytes(4, "little") + b"\xff\xff\xff\xff" * 108  # DIFAT: FAT in sector 0
    fat = (0xFFFFFFFD).to_bytes(4, "little") + end.to_bytes(4, "little") + b"\xff\xff\xff\xff" * 126

    def entry(name: str, kind: int, child: int = free, right: int = free) -> bytes:
        encoded = name.encode("utf-16-le") + b"\0\0"
        data = encoded.ljust(64, b"\0") + len(encoded).to_bytes(2, "little") + bytes([kind, 1])
        data += free.to_bytes(4, "little") + right.to_bytes(4, "little") + child.to_bytes(4, "little")
        return data + bytes(16 + 4 + 16) + end.to_bytes(4, "little") + bytes(8)

    entries = [entry("Root Entry", 5, child=1 if streams else free)]
    entries += [entry(name, 2, right=i + 2 if i + 1 < len(streams) else free) for i, name in enumerate(streams)]
    directory = b"".join(entries).ljust(512, b"\0")
    data = bytes(header) + fat + directory
    return data[:cut] if cut is not None else data
