"""config.read_section: the one reader every ducha.toml section goes through."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import pytest

from toolkit.config import load_config, option, read_section
from toolkit.errors import ConfigError


@dataclass(frozen=True)
class Sample:
    name: str = "x"
    count: int = 3
    share: float = 0.5
    flag: bool = True
    mode: str = option("a", choices=("a", "b"))
    when: dt.time = option(dt.time(9, 0), parse=lambda v: dt.time.fromisoformat(str(v)), hint="应为时刻")


@dataclass(frozen=True)
class Other:
    extra: bool = False


def test_values_are_typed_and_defaults_fill_the_rest():
    sample = read_section({"count": 5, "share": 1, "when": "08:30"}, "sample", Sample)
    assert sample == Sample(count=5, share=1.0, when=dt.time(8, 30))
    assert isinstance(sample.share, float)


def test_keys_are_shared_out_among_several_classes():
    sample, other = read_section({"name": "y", "extra": True}, "sample", Sample, Other)
    assert (sample.name, other.extra) == ("y", True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"nmae": "y"}, "ducha.toml 的 [sample] 中有未知配置项：nmae"),
        ({"count": "5"}, "ducha.toml 的 [sample] count 类型不对，应为整数，如 3"),
        ({"flag": 1}, "ducha.toml 的 [sample] flag 类型不对，应为true 或 false，如 True"),
        ({"name": 3}, "ducha.toml 的 [sample] name 类型不对，应为文字（加引号），如 'x'"),
        ({"mode": "c"}, "ducha.toml 的 [sample] mode 应为 a、b 之一"),
        ({"when": "9点"}, "ducha.toml 的 [sample] when 应为时刻"),
    ],
)
def test_a_bad_value_names_the_section_and_key_in_chinese(data, message):
    with pytest.raises(ConfigError) as caught:
        read_section(data, "sample", Sample)
    assert str(caught.value) == message


def test_a_section_that_is_not_a_table_is_refused():
    with pytest.raises(ConfigError, match=r"\[sample\] 应为一个表"):
        read_section(3, "sample", Sample)


def test_paths_and_deadlines_go_through_the_same_reader(tmp_path):
    (tmp_path / "ducha.toml").write_text(
        '[paths]\ndrop = "收件"\n[deadlines]\nday = 27\n"2024Q1" = "2024-03-29"\n', encoding="utf-8")
    config = load_config(tmp_path)
    assert config.paths.drop == tmp_path.resolve() / "收件"
    assert config.deadlines.day == 27 and config.deadlines.overrides == {"2024Q1": dt.date(2024, 3, 29)}
    for text, message in [
        ("[paths]\ndrop = 3\n", "[paths] drop 应为文字（加引号）的路径"),
        ("[deadlines]\nday = 31\n", "[deadlines] day 应为 1–30 之间的整数"),
        ('[deadlines]\n"2024Q1" = "三月"\n', "[deadlines] 2024Q1 应为日期"),
    ]:
        (tmp_path / "ducha.toml").write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
            load_config(tmp_path)
