"""Value normalisers: what units type in Excel/WPS → canonical values, with changed/invalid flags."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from toolkit.forms.layout import STATUSES
from toolkit.intake import normalize

FULL_WIDTH = str.maketrans("0123456789%", "０１２３４５６７８９％")


@pytest.mark.parametrize(
    ("typed", "status", "changed"),
    [
        ("已完成", "已完成", False),
        (" 正常推进\u3000", "正常推进", False),
        ("完成", "已完成", True),
        ("已办结", "已完成", True),
        ("推进中", "正常推进", True),
        ("进行中", "正常推进", True),
        ("滞后", "进度滞后", True),
        ("未开始", "未启动", True),
        ("未 开 始", "未启动", True),
    ],
)
def test_status_accepts_the_four_values_and_obvious_synonyms(typed, status, changed):
    result = normalize.status(typed)
    assert (result.value, result.changed, result.ok) == (status, changed, True)


def test_status_rejects_other_text_and_reports_empty_as_missing():
    assert normalize.status("差不多了") == normalize.Norm(None, ok=False, shown="差不多了")
    assert normalize.status("") == normalize.Norm(None, ok=True, shown="")
    assert normalize.status(None).value is None


@pytest.mark.parametrize(
    ("typed", "percent_format", "value", "changed"),
    [
        (80, None, 80.0, False),
        (80.0, False, 80.0, False),
        ("80", None, 80.0, False),
        ("80%", None, 80.0, False),
        ("８０％", None, 80.0, False),
        (" 80 % ", None, 80.0, False),
        (0.8, True, 80.0, False),
        (1, True, 100.0, False),
        (0.07, True, 7.0, False),
        (0.8, None, 80.0, True),
        ("0.8", False, 80.0, True),
        (1, False, 1.0, False),
        (0, None, 0.0, False),
        ("0.5%", None, 0.5, False),
    ],
)
def test_progress_in_percent(typed, percent_format, value, changed):
    result = normalize.progress(typed, percent_format)
    assert (result.value, result.changed, result.ok) == (value, changed, True)


@pytest.mark.parametrize(("typed", "value"), [("八成", None), ("约80", None), (120, 120.0), (-5, -5.0), (True, None)])
def test_progress_rejects_words_and_numbers_outside_0_100(typed, value):
    result = normalize.progress(typed)
    assert not result.ok and result.value == value


def test_progress_shows_a_percent_formatted_cell_as_the_unit_saw_it():
    assert normalize.progress(1.2, True).shown == "120%"
    assert not normalize.progress(1.2, True).ok


@given(st.integers(0, 100), st.sampled_from(["{}", "{}%", " {} ", "{}％"]), st.booleans())
def test_progress_any_whole_percent_in_any_spelling(n, template, full_width):
    typed = template.format(n)
    if full_width:
        typed = typed.translate(FULL_WIDTH)
    result = normalize.progress(typed)
    assert result.ok and result.value == n


@given(st.floats(allow_nan=True, allow_infinity=True) | st.text() | st.integers() | st.none())
def test_progress_never_raises_and_ok_values_are_in_range(value):
    result = normalize.progress(value)
    if result.ok and result.value is not None:
        assert 0 <= result.value <= 100
    if not result.ok:
        assert result.value is None or not 0 <= result.value <= 100


@given(st.sampled_from(STATUSES), st.sampled_from(["", " ", "\u3000", "\u00a0"]))
def test_status_survives_padding(status, pad):
    assert normalize.status(f"{pad}{status}{pad}").value == status


@given(st.text())
def test_status_is_one_of_four_or_nothing(text):
    result = normalize.status(text)
    assert result.value in (*STATUSES, None)
    assert result.ok or result.value is None


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("15137880816", "15137880816"),
        (15137880816.0, "15137880816"),
        ("151-3788-0816", "15137880816"),
        ("+86 151 3788 0816", "15137880816"),
        ("１５１３７８８０８１６", "15137880816"),
        ("0371-23859529", "0371-23859529"),
        ("(0371)23859529", "0371-23859529"),
        ("037123859529", "0371-23859529"),
        ("0371-23859529转8001", "0371-23859529-8001"),
        ("010-62345678-123", "010-62345678-123"),
        ("23859529", "23859529"),
        ("23859529、15137880816", "23859529、15137880816"),
    ],
)
def test_phone_accepts_mobiles_landlines_extensions_and_full_width(typed, canonical):
    result = normalize.phone(typed)
    assert result.ok and result.value == canonical


@pytest.mark.parametrize("typed", ["12345", "1513788081", "abc", "0371-123", "23859529、12"])
def test_phone_rejects_malformed_numbers(typed):
    assert not normalize.phone(typed).ok


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True), st.booleans())
def test_phone_any_mobile_roundtrips(mobile, full_width):
    typed = mobile.translate(FULL_WIDTH) if full_width else mobile
    assert normalize.phone(typed).value == mobile


@given(st.from_regex(r"0[1-9][0-9]{1,2}", fullmatch=True), st.from_regex(r"[2-9][0-9]{6,7}", fullmatch=True))
def test_phone_any_landline_with_area_code(area, local):
    assert normalize.phone(f"{area}-{local}").value == f"{area}-{local}"


@pytest.mark.parametrize(
    "typed",
    [
        dt.date(2024, 3, 20),
        dt.datetime(2024, 3, 20, 0, 0),
        45371,
        45371.0,
        "2024-03-20",
        "2024/3/20",
        "2024.3.20",
        "2024年3月20日",
        "２０２４年３月２０日",
        "20240320",
    ],
)
def test_date_from_cells_serials_and_text(typed):
    assert normalize.date(typed).value == dt.date(2024, 3, 20)


@pytest.mark.parametrize("typed", ["2024-02-30", "三月二十日", 45371.5, -1, "2024-3"])
def test_date_rejects_what_is_not_a_date(typed):
    assert not normalize.date(typed).ok


@given(st.dates(dt.date(1900, 3, 1), dt.date(9999, 12, 31)))
def test_date_excel_serial_and_iso_text_agree(day):
    serial = (day - dt.date(1899, 12, 30)).days
    assert normalize.date(serial).value == day
    assert normalize.date(day.isoformat()).value == day
    assert normalize.date(f"{day.year}年{day.month}月{day.day}日").value == day


def test_text_strips_full_width_spaces_and_unifies_line_breaks():
    assert normalize.text("\u3000 已完成\r\n验收 \u00a0").value == "已完成\n验收"
    assert normalize.text(13.0).value == "13"
    assert normalize.text(None).value == ""
    assert normalize.text("\u200b \ufeff任务\u200b内容 \u200d\u2003").value == "任务\u200b内容"  # inner ones stay


def test_the_edge_characters_text_strips_are_exactly_those_compact_removes():
    """str.strip(EDGE_SPACES) stands for the regex class on every code point of this Python."""
    class_ = normalize._SPACES
    assert [c for c in map(chr, range(0x110000)) if (c in normalize.EDGE_SPACES) != bool(class_.fullmatch(c))] == []


def test_number_reads_text_with_thousands_separator_and_full_width_digits():
    assert normalize.number("1,200").value == 1200
    assert normalize.number("６.５").value == 6.5
    assert normalize.number("6.5%").value == 6.5
    assert not normalize.number("约6万").ok
