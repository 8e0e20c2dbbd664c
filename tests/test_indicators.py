"""Quantitative targets found in task texts: the examples the issue names, and numbers that are not targets."""

from __future__ import annotations

import pytest

from tests.conftest import NOTICE
from toolkit.ledger.indicators import extract, extract_all
from toolkit.ledger.notice import parse_notice


@pytest.fixture(scope="module")
def texts() -> dict[int, str]:
    return {i.no: i.content for i in parse_notice(NOTICE.read_text(encoding="utf-8")).items}


def rows(no: int, text: str) -> list[tuple]:
    return [(i.name, i.target, i.unit, i.direction) for i in extract(no, text)]


def test_item_1_growth(texts):
    assert rows(1, texts[1]) == [("经济增长", 6.5, "%", "≥")]  # growth is a floor


def test_item_7_about(texts):
    assert rows(7, texts[7]) == [("城镇调查失业率", 5.5, "%", "≈")]


def test_item_8_new_jobs_is_a_floor(texts):
    assert rows(8, texts[8]) == [("城镇新增就业", 6.24, "万人", "≥")]


def test_item_24_four_indicators(texts):
    assert rows(24, texts[24]) == [
        ("新增智能车间（工厂）", 7, "家", "≥"),
        ("优秀智能应用场景", 4, "个", "≥"),
        ("服务型制造示范企业", 1, "家", "≥"),
        ("规模以上制造业企业数字化转型诊断服务完成率", 50, "%", "≥"),
    ]


def test_item_59_base_stations_not_5g(texts):
    assert rows(59, texts[59]) == [("5G基站", 9200, "座", "≥")]
    assert extract(59, texts[59])[0].source == "全市5G基站达到9200座"


def test_item_143_at_most(texts):
    assert rows(143, texts[143]) == [("不良贷款率", 5, "%", "≤")]
    assert extract(143, texts[143])[0].source == "确保不良贷款率保持在5%以内"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("矛盾纠纷调解率不低于95%。", [("矛盾纠纷调解率", 95, "%", "≥")]),
        ("高新技术企业突破330家。", [("高新技术企业", 330, "家", "≥")]),
        ("年节能2万吨标准煤以上。", [("年节能", 2, "万吨标准煤", "≥")]),
        ("开展职业技能培训10万人次。", [("开展职业技能培训", 10, "万人次", "=")]),
        (
            "形成国家级复制推广经验1至2项、省级5项。",
            [("形成国家级复制推广经验", 1, "项", "≥"), ("省级", 5, "项", "=")],
        ),
        ("建成市中心医院新院区等11个项目。", [("建成市中心医院新院区等项目", 11, "个", "=")]),
    ],
)
def test_direction_words_and_measures(text, expected):
    assert rows(1, text) == expected


@pytest.mark.parametrize(
    "no",
    [5, 10, 12, 13, 14, 15, 47, 57, 60, 65, 88],
)
def test_no_rows_for_years_ordinals_codes_and_project_names(texts, no):
    # 12 “十四五”, 13 30万辆…等项目, 14 PDI, 15 年产111万吨, 47 第七届, 57 “2.5产业园”,
    # 60 28万吨固废等项目, 65 2024年, 88 三年（2022至2024年）
    assert extract(no, texts[no]) == []


def test_whole_notice_counts(texts):
    found = extract_all(sorted(texts.items()))
    assert len(found) == 97  # item 94's 翻番 and 增长10% are two
    assert len({i.task_no for i in found}) == 64
    assert [i.task_no for i in found if i.task_no <= 12] == [1, 2, 3, 4, 6, 7, 8, 9, 11]
