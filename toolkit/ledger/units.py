"""Responsible units: canonical names, spelling variants, kinds, groups, and the 责任单位 split.

The notice spells some units two ways and names groups (各县区) instead of units; one unit must
receive one workbook however it was spelled, and a group must reach every member. The tables
here only seed the ledger's 单位名录 sheet: once built, that sheet (which the clerk edits in
Excel) is the source of truth for aliases, kinds and group membership.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from email.errors import HeaderParseError
from email.headerregistry import Address

from toolkit.model import UNIT_KINDS, Unit

KIND_CITY, KIND_COUNTY, KIND_ZONE, KIND_STATIONED, KIND_GROUP = UNIT_KINDS  # KIND_GROUP == GROUP_KIND

COUNTY_SEPARATOR = "，"  # city departments before it, counties/districts/zones after it
UNIT_SEPARATOR = "、"

GROUP_COUNTIES = "各县区"
GROUP_ZONES = "各开发区管委会"
COUNTIES = ("杞县", "通许县", "尉氏县", "兰考县")
DISTRICTS = ("龙亭区", "顺河回族区", "鼓楼区", "禹王台区", "祥符区")

# Development zones and parks with their own management committee.
ZONES = ("城乡一体化示范区", "产城融合示范区", "自贸试验区开封片区", "宋都古城文化产业园区")
# Units under vertical (provincial or national) management stationed in the city: the city
# government asks, it does not command, so briefings list them apart.
STATIONED = (
    "中国人民银行开封市分行",
    "国家金融监督管理总局开封监管分局",
    "开封海关",
    "市税务局",
    "市气象局",
    "市通信管理办公室",
    "市河务局",
    "市消防救援支队",
)
GROUPS = (GROUP_COUNTIES, GROUP_ZONES)
ZONE_MARK = "开发区"  # in the name of a group that the notice's zones are seeded into

# Spelling variant → canonical name. The canonical spelling is the one the notice uses most.
ALIASES = {
    "市住房和城乡建设局": "市住房城乡建设局",
    "市委宣传部（市文明办）": "市委宣传部",
    "自贸试验区开封片区（综保区）": "自贸试验区开封片区",
    "宋都古城文化园区": "宋都古城文化产业园区",
}

KIND_ORDER = {kind: i for i, kind in enumerate(UNIT_KINDS)}


def canonical(name: str) -> str:
    """The one spelling a unit is known by in the ledger."""
    return ALIASES.get(name, name)


def aliases_of(name: str) -> tuple[str, ...]:
    return tuple(alias for alias, target in ALIASES.items() if target == name)


# Another city's notice names units the tables above do not list: a name that reads like a zone
# is a 开发区, one ending in 县 or 区 a 县区 (洛龙区, 新安县); the clerk corrects a wrong guess in 单位名录.
ZONE_WORDS = ("示范区", "开发区", "经开区", "高新区", "新区", "园区", "片区", "综保区", "管委会")
COUNTY_ENDINGS = ("县", "区")


def kind_of(name: str) -> str:
    """Seed kind of a canonical name: the tables of 开封市 first, then the name's own wording;
    anything else is a city department (市直部门)."""
    if name in GROUPS or name.startswith("各"):
        return KIND_GROUP
    if name in COUNTIES or name in DISTRICTS:
        return KIND_COUNTY
    if name in ZONES:
        return KIND_ZONE
    if name in STATIONED:
        return KIND_STATIONED
    if any(word in name for word in ZONE_WORDS):
        return KIND_ZONE
    if name.endswith(COUNTY_ENDINGS) and not name.startswith("市"):
        return KIND_COUNTY
    return KIND_CITY


def groups_of(name: str, zone_groups: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Seed membership: the counties and districts form 各县区, and a 开发区 belongs to the zone
    groups the notice names (zone_groups: 各开发区管委会). The clerk changes either in
    单位名录.所属分组 (e.g. puts 城乡一体化示范区 in 各县区 as well)."""
    if kind_of(name) == KIND_COUNTY:
        return (GROUP_COUNTIES,)
    return zone_groups if kind_of(name) == KIND_ZONE else ()


def is_zone_group(name: str) -> bool:
    """A group of development zones: 各开发区管委会, or any 各…开发区… group a notice names."""
    return kind_of(name) == KIND_GROUP and ZONE_MARK in name


def split_names(text: str) -> list[str]:
    """'市商务局、 市民政局' → ['市商务局', '市民政局'] (as written, not canonical)."""
    return [part.strip() for part in text.split(UNIT_SEPARATOR) if part.strip()]


def split_units(units_text: str) -> tuple[str, tuple[str, ...], tuple[str, ...]]:
    """责任单位 → (牵头单位, 配合单位, 县区单位), canonical names.

    Before the full-width comma: city departments, the first leads. After it: counties,
    districts and zones (group names kept). With no comma every unit is before it, so an item
    owned by a county alone (item 77: 尉氏县) is led by that county.
    """
    city_text, _, county_text = units_text.partition(COUNTY_SEPARATOR)
    city = [canonical(n) for n in split_names(city_text)]
    county = [canonical(n) for n in split_names(county_text.replace(COUNTY_SEPARATOR, UNIT_SEPARATOR))]
    lead = city[0] if city else ""
    return lead, _unique(city[1:], exclude=lead), _unique(county, exclude=lead)


def _unique(names: Iterable[str], exclude: str) -> tuple[str, ...]:
    seen = {exclude}
    kept = []
    for name in names:
        if name not in seen:
            seen.add(name)
            kept.append(name)
    return tuple(kept)


def catalogue(names: Iterable[str]) -> list[Unit]:
    """单位名录 rows for every name the notice uses, plus every member of 各县区 (a group must be
    able to reach its members even when none is named), the notice's zones in its zone groups:
    ordered by kind, then counties in their customary order, then first appearance."""
    named = [canonical(n) for n in names]
    # The counties and districts listed above are 开封市's: they complete 各县区 only for a notice
    # that names one of 开封市's own counties, districts or zones, never another city's.
    kaifeng = any(name in (*COUNTIES, *DISTRICTS, *ZONES) for name in named)
    seen: dict[str, int] = {}
    for name in (*named, *((*COUNTIES, *DISTRICTS) if kaifeng else ())):
        seen.setdefault(name, len(seen))
    customary = {name: i for i, name in enumerate((*COUNTIES, *DISTRICTS))}

    def order(name: str) -> tuple[int, int, int]:
        return KIND_ORDER[kind_of(name)], customary.get(name, len(customary)), seen[name]

    zone_groups = tuple(n for n in sorted(seen, key=order) if is_zone_group(n))
    return [Unit(n, kind_of(n), aliases_of(n), groups_of(n, zone_groups)) for n in sorted(seen, key=order)]


_SPLIT_ADDRESSES = re.compile(r"[\s,;，；、]+")
_ATOM = r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
_PLAIN_ADDRESS = re.compile(rf"^{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+$")


def parse_addresses(text: str) -> tuple[list[str], list[str]]:
    """(valid, invalid) addresses from a 邮箱 cell that may hold several, separated by ；，、 or
    spaces. The one rule for an address, used by the ledger check, [bureau]/[mail] and sending:
    a plain name@domain.tld (dot-atoms, no empty label such as x@126..com) that the e-mail
    library also accepts unchanged."""
    valid, invalid = [], []
    for part in filter(None, _SPLIT_ADDRESSES.split(text.strip())):
        (valid if _valid_address(part) else invalid).append(part)
    return valid, invalid


def _valid_address(text: str) -> bool:
    if not _PLAIN_ADDRESS.match(text):
        return False
    try:
        address = Address(addr_spec=text)
    except (ValueError, IndexError, HeaderParseError):
        return False
    return address.addr_spec == text
