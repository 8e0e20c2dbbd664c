"""The quarter's rules on their own: 综合状态, lights, verdicts (supersede / reject), 完成率."""

from __future__ import annotations

from pathlib import PurePath

import pytest

from tests.merge_fixtures import COMMERCE, NDRC, checked, error, file_records, warning
from toolkit.quarter.rules import completion, decide_verdicts, file_order, light, overall_status


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        ([], "未报送"),
        (["已完成", "进度滞后", "正常推进"], "进度滞后"),
        (["未启动", "进度滞后"], "进度滞后"),
        (["已完成", "已完成"], "已完成"),
        (["已完成"], "已完成"),
        (["未启动", "未启动"], "未启动"),
        (["已完成", "未启动"], "正常推进"),
        (["正常推进", "已完成"], "正常推进"),
        (["正常推进"], "正常推进"),
    ],
)
def test_overall_status(statuses: list[str], expected: str) -> None:
    """With the lead among the reporters; without it see test_status_rules."""
    assert overall_status(statuses, lead_reported=bool(statuses)) == expected


@pytest.mark.parametrize(
    ("status", "lead", "quarter", "past", "expected"),
    [
        ("已完成", None, 1, False, "绿灯"),
        ("已完成", 100, 4, True, "绿灯"),
        ("正常推进", 25, 1, False, "绿灯"),  # exactly on pace
        ("正常推进", 60, 2, True, "绿灯"),
        ("正常推进", 24, 1, False, "黄灯"),  # 1 point behind
        ("正常推进", 26, 2, False, "黄灯"),  # 24 points behind: still yellow
        ("正常推进", 25, 2, False, "红灯"),  # 25 points behind
        ("未启动", 0, 1, False, "红灯"),
        ("正常推进", 40, 4, False, "红灯"),
        ("进度滞后", 80, 2, False, "黄灯"),  # a unit says lagging, lead on pace
        ("进度滞后", 10, 2, False, "红灯"),
        ("正常推进", None, 1, False, "黄灯"),  # the lead gave no number
        ("未报送", None, 1, False, "未亮灯"),  # nobody yet, deadline not passed
        ("未报送", None, 1, True, "红灯"),  # nobody after the deadline
    ],
)
def test_light(status: str, lead: float | None, quarter: int, past: bool, expected: str) -> None:
    assert light(status, lead, 25 * quarter, past) == expected


def test_latest_accepted_file_wins_and_rejected_stays_rejected() -> None:
    first = checked(NDRC, "2024-03-10T09:00:00")
    broken = checked(NDRC, "2024-03-12T09:00:00", issues=[error()])
    second = checked(NDRC, "2024-03-15T09:00:00")
    broken_later = checked(NDRC, "2024-03-16T09:00:00", issues=[error()])
    other = checked(COMMERCE, "2024-03-01T09:00:00", issues=[warning()])
    unknown = checked(None, "2024-03-01T09:00:00", {})
    verdicts = decide_verdicts(file_records(second, first, broken, broken_later, other, unknown))
    assert verdicts == {
        first.sha256: "superseded",
        broken.sha256: "rejected",
        second.sha256: "accepted",
        broken_later.sha256: "rejected",
        other.sha256: "accepted",  # warnings do not reject
        unknown.sha256: "rejected",
    }


@pytest.mark.parametrize(
    ("value", "target", "kind", "expected"),
    [(6.2, 6.5, "约数", 95.4), (120, 100, "累计量", 120.0), (5.0, 5.5, "上限", 100.0), (6.0, 3.0, "上限", 50.0),
     (None, 5, "增速/比率", None), (3, 0, "累计量", None)],
)
def test_completion(value, target, kind, expected) -> None:
    assert completion(kind, value, target) == expected


def test_two_good_files_in_the_same_second_are_ordered_by_fill_date_then_name_not_hash():
    """The winner used to depend on the SHA-256; now it is received time, then the 填报日期 the unit
    wrote, then the file name — and 汇总表 and the receipts list the files in that same order."""
    same = "2024-03-27T10:00:00"
    named = [checked(NDRC, same, {1: ("正常推进", 50.0)}, path=f"drop/{name}") for name in ("b_第二版.xlsx", "a_第一版.xlsx")]
    records = file_records(*named)
    by_name = {PurePath(r.path).name: r for r in records}
    by_name["a_第一版.xlsx"].sha256, by_name["b_第二版.xlsx"].sha256 = "f" * 64, "0" * 64  # hash order says a
    verdicts = decide_verdicts(records)
    assert verdicts[by_name["b_第二版.xlsx"].sha256] == "accepted"  # the later name, whatever the hashes
    assert verdicts[by_name["a_第一版.xlsx"].sha256] == "superseded"
    assert [PurePath(r.path).name for r in sorted(records, key=file_order)] == ["a_第一版.xlsx", "b_第二版.xlsx"]
    by_name["a_第一版.xlsx"].filler["填报日期"] = "2024-03-27"  # the unit's own later version wins
    by_name["b_第二版.xlsx"].filler["填报日期"] = "2024-03-26"
    assert decide_verdicts(records)[by_name["a_第一版.xlsx"].sha256] == "accepted"
