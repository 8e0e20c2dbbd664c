"""Unit names: one spelling per unit, kinds, 各县区 membership, and the 责任单位 split."""

from __future__ import annotations

import pytest

from toolkit.ledger import units


@pytest.mark.parametrize(
    ("spelling", "name"),
    [
        ("市住房和城乡建设局", "市住房城乡建设局"),
        ("市住房城乡建设局", "市住房城乡建设局"),
        ("市委宣传部（市文明办）", "市委宣传部"),
        ("自贸试验区开封片区（综保区）", "自贸试验区开封片区"),
        ("宋都古城文化园区", "宋都古城文化产业园区"),
        ("市商务局", "市商务局"),
    ],
)
def test_spelling_variants_merge(spelling, name):
    assert units.canonical(spelling) == name


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("市商务局", "市直部门"),
        ("兰考县", "县区"),
        ("顺河回族区", "县区"),
        ("城乡一体化示范区", "开发区"),
        ("自贸试验区开封片区", "开发区"),
        ("开封海关", "驻汴单位"),
        ("国家金融监督管理总局开封监管分局", "驻汴单位"),
        ("各县区", "分组"),
        ("各开发区管委会", "分组"),
    ],
)
def test_kinds(name, kind):
    assert units.kind_of(name) == kind


def test_split_before_comma_city_after_comma_county():
    lead, co, county = units.split_units(
        "市商务局、自贸试验区开封片区（综保区），兰考县、杞县、祥符区、产城融合示范区"
    )
    assert lead == "市商务局"
    assert co == ("自贸试验区开封片区",)
    assert county == ("兰考县", "杞县", "祥符区", "产城融合示范区")


def test_split_keeps_group_names():
    assert units.split_units("市文化广电旅游局，各县区") == ("市文化广电旅游局", (), ("各县区",))


def test_county_alone_leads():
    assert units.split_units("尉氏县") == ("尉氏县", (), ())


def test_no_comma_means_all_city():
    assert units.split_units("市发展改革委、市人力资源社会保障局、市农业农村局") == (
        "市发展改革委",
        ("市人力资源社会保障局", "市农业农村局"),
        (),
    )


def test_catalogue_merges_variants_and_lists_every_county():
    rows = units.catalogue(["市住房城乡建设局", "市住房和城乡建设局", "市商务局", "兰考县", "各县区"])
    names = [u.name for u in rows]
    assert names == [
        "市住房城乡建设局",
        "市商务局",
        "杞县",
        "通许县",
        "尉氏县",
        "兰考县",
        "龙亭区",
        "顺河回族区",
        "鼓楼区",
        "禹王台区",
        "祥符区",
        "各县区",
    ]
    by_name = {u.name: u for u in rows}
    assert by_name["市住房城乡建设局"].aliases == ("市住房和城乡建设局",)
    assert [u.name for u in rows if "各县区" in u.groups] == names[2:11]
    assert by_name["各县区"].groups == ()


def test_one_address_rule_for_the_ledger_check_and_mail():
    """a..b@x.com passed the ledger check's own regex and then failed in mail; x@126..com crashed
    the e-mail parser. One rule now answers for both."""
    from toolkit.ledger.units import parse_addresses

    valid, invalid = parse_addresses("ok@x.cn；a..b@x.com、x@126..com .a@b.com a@b.com. 张@x.com a@b")
    assert valid == ["ok@x.cn"]
    assert invalid == ["a..b@x.com", "x@126..com", ".a@b.com", "a@b.com.", "张@x.com", "a@b"]
