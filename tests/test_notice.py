"""The notice parser: every item, repaired as the office meant it, with warnings for what it cannot decide."""

from __future__ import annotations

import pytest

from tests.conftest import NOTICE
from toolkit.ledger.notice import ParsedNotice, clean_text, parse_notice

SECTIONS = [
    "（一）坚持制造立市，壮大高质量发展产业动能",
    "（二）坚持科技创新，增强高质量发展内生动力",
    "（三）坚持文旅强市，彰显高质量发展特色底蕴",
    "（四）坚持扩大内需，把牢高质量发展战略基点",
    "（五）坚持乡村振兴，夯实高质量发展关键支撑",
    "（六）坚持城乡融合，优化高质量发展区域布局",
    "（七）坚持改革开放，蓄积高质量发展持久势能",
    "（八）坚持绿色发展，增添高质量发展靓丽底色",
    "（九）坚持为民造福，共享高质量发展丰硕成果",
    "（十）坚持平安治市，守住高质量发展安全底线",
]


@pytest.fixture(scope="module")
def parsed() -> ParsedNotice:
    return parse_notice(NOTICE.read_text(encoding="utf-8"))


def item(parsed: ParsedNotice, no: int):
    return next(i for i in parsed.items if i.no == no)


def test_all_153_items_in_order(parsed):
    assert [i.no for i in parsed.items] == list(range(1, 154))


def test_twelve_targets_then_ten_sections(parsed):
    targets = [i for i in parsed.items if i.category == "一、主要预期目标"]
    assert [i.no for i in targets] == list(range(1, 13))
    assert {i.section for i in targets} == {"一、主要预期目标"}
    work = [i for i in parsed.items if i.category == "二、全年重点工作"]
    assert list(dict.fromkeys(i.section for i in work)) == SECTIONS
    assert len(work) == 141


def test_item_10_units_without_comma_and_title_leader(parsed):
    it = item(parsed, 10)
    assert it.leaders == ("常务副市长", "刘震")
    assert it.units_text == "市发展改革委、市人力资源社会保障局、市农业农村局"


def test_item_13_half_width_bold_heading_normalised(parsed):
    it = item(parsed, 13)
    assert it.section == SECTIONS[0]
    assert it.leaders == ("薛志勇", "郑红英", "陈志刚", "岳青")
    assert it.units_text == "市工业和信息化局，城乡一体化示范区、尉氏县、产城融合示范区"


def test_item_27_leaders_continue_on_next_line(parsed):
    assert item(parsed, 27).leaders == ("肖文兴", "袁钢", "黄宗刚", "郑红英", "陈嘉慧", "赛睿")


def test_item_47_padded_names_across_lines(parsed):
    it = item(parsed, 47)
    assert it.leaders == ("邵华", "郭歌舞", "郑红英", "陈嘉慧", "赛睿", "潘磊", "张统")
    assert it.content == "高水平争创第七届全国文明城市。"
    assert it.units_text.startswith("市委宣传部（市文明办），祥符区")


@pytest.mark.parametrize(
    ("no", "units_text"),
    [
        (52, "市商务局、市民政局、市文化广电旅游局、市市场监管局"),
        (82, "市人力资源社会保障局、市医保局、市市场监管局、市不动产登记中心"),
        (99, "市商务局、自贸试验区开封片区（综保区），兰考县、杞县、祥符区、产城融合示范区"),
        (
            144,
            "市住房城乡建设局、市资源规划局、市金融局、中国人民银行开封市分行、国家金融监督管理总局开封监管分局，各县区",
        ),
        (77, "尉氏县"),
        (96, "市资源规划局，各开发区管委会"),
    ],
)
def test_page_break_splits_in_units_repaired(parsed, no, units_text):
    assert item(parsed, no).units_text == units_text


def test_page_break_inside_task_text_repaired(parsed):
    assert "国家科技型中小企业突破700家" in item(parsed, 30).content
    assert "力争引进硕士以上人才1500人" in item(parsed, 35).content


def test_no_markup_or_layout_whitespace_left(parsed):
    for it in parsed.items:
        for text in (it.content, it.units_text, it.section, *it.leaders):
            assert "**" not in text and "#" not in text
            assert " " not in text.replace(" and ", ""), (it.no, text)
    assert "布局跨境O2O线下体验店" in item(parsed, 54).content
    assert "全市5G基站达到9200座" in item(parsed, 59).content


def test_padding_removed_from_two_character_names(parsed):
    assert item(parsed, 4).leaders == ("袁钢",)
    assert item(parsed, 153).leaders == ("邵华",)


def test_stray_and_kept_and_warned_with_item_number(parsed):
    assert "科技型企业 and 科技创新发展" in item(parsed, 33).content
    assert "重点行业 and 人员密集办公场所" in item(parsed, 59).content
    stray = [i for i in parsed.issues if i.code == "notice_stray_latin"]
    assert [i.level for i in stray] == ["warning", "warning"]
    assert stray[0].message.startswith("第33项")
    assert stray[1].message.startswith("第59项")
    assert [i.code for i in parsed.issues] == ["notice_stray_latin", "notice_stray_latin"]


def test_covering_letter_rules_are_not_items():
    text = "**一、高度重视。**各单位要重视。\n\n### 一、主要预期目标\n\n1. 经济增长6.5%。\n\n责任领导：常务副市长\n\n责任单位：市发展改革委\n"
    parsed = parse_notice(text)
    assert [(i.no, i.content, i.units_text) for i in parsed.items] == [(1, "经济增长6.5%。", "市发展改革委")]


def test_numbering_gap_and_missing_field_are_warned():
    text = (
        "### 一、主要预期目标\n\n1. 甲。\n\n责任领导：刘震\n\n责任单位：市水利局\n\n"
        "3. 乙。\n\n责任领导：刘震\n\n---\n"
    )
    parsed = parse_notice(text)
    assert [i.no for i in parsed.items] == [1, 3]
    assert [(i.code, i.message[:4]) for i in parsed.issues] == [
        ("notice_field_missing", "第3项（"),
        ("notice_numbering", "通知第9"),
    ]


def test_clean_text_keeps_latin_phrases_but_joins_chinese():
    assert clean_text("袁 钢") == "袁钢"
    assert clean_text("**布局跨境 O2O 线下**") == "布局跨境O2O线下"
    assert clean_text("企业 and 科技") == "企业 and 科技"
    assert clean_text("Hello  world") == "Hello world"
