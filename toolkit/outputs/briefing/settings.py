"""What the bureau may change about the briefing without touching code: who issues it, to whom,
which templates, which browser prints it, and the rules for naming units ([briefing] in
ducha.toml). Kept apart so doctor can check the section without loading the renderers.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from toolkit.config import Config, option


@dataclass(frozen=True)
class Rules:
    """Which units the briefing praises (all praise_* conditions hold) and criticises (any
    criticise_* condition holds). Defaults follow the notice: 完成好的予以表扬，推进缓慢的予以批评."""

    praise_on_time: bool = True
    praise_no_errors: bool = True
    praise_on_pace: bool = True
    criticize_missing: bool = True
    criticize_late: bool = True
    criticize_rejected: bool = True
    criticize_red: bool = True

    def _chosen(self, texts: dict[str, str]) -> list[str]:
        return [text for name, text in texts.items() if getattr(self, name)]

    def praise_text(self) -> str:
        parts = self._chosen(PRAISE_TEXTS)
        return f"表扬规则：同时符合{'、'.join(parts)}的单位予以表扬。" if parts else "表扬规则：本期不作表扬。"

    def criticism_text(self) -> str:
        parts = self._chosen(CRITICISM_TEXTS)
        return f"批评规则：有{'、'.join(parts)}情形之一的单位予以批评。" if parts else "批评规则：本期不作批评。"


# How each rule reads in the briefing, so the reader sees why a unit is named.
PRAISE_TEXTS = {
    "praise_on_time": "按时报送",
    "praise_no_errors": "报送材料无错误",
    "praise_on_pace": "所填报任务均达到序时进度（已完成，或完成进度不低于序时进度且未填“进度滞后”）",
}
CRITICISM_TEXTS = {
    "criticize_missing": "未报送",
    "criticize_late": "迟报",
    "criticize_rejected": "报送材料被退回修改且未重新报送合格材料",
    "criticize_red": "牵头任务亮红灯",
}


@dataclass(frozen=True)
class _Texts:
    issuer: str = ""  # empty: the city + the bureau's name, e.g. 开封市政府督查局
    addressee: str = "各县、区人民政府，市人民政府各部门及有关单位："
    templates: str = "templates"  # a workspace folder whose files override the bundled templates
    headline_section: str = "一、主要预期目标"  # the 板块 whose tasks are the headline targets
    browser: str = ""  # Chromium/Chrome/Edge executable for --pdf; empty: search PATH
    doc_prefix: str = "汴督查"  # 发文字号 before 〔year〕N号
    copy_to: str = "市委办公室，市人大常委会办公室，市政协办公室"  # 版记 抄送
    appendix: str = option("after", choices=("after", "separate"))  # 附件 after the 版记, or 通报附件.docx
    serif_font: str = "Noto Serif CJK SC"  # prints 小标宋, 仿宋, 楷体 where those are not installed
    sans_font: str = "Noto Sans CJK SC"  # prints 黑体 where it is not installed
    chart_font: str = ""  # font file the Word charts are drawn with; empty: found on the machine


@dataclass(frozen=True)
class BriefingSettings(_Texts):
    rules: Rules = Rules()


def briefing_settings(config: Config) -> BriefingSettings:
    """[briefing] from ducha.toml: the texts and the praise/criticism rules share the section."""
    texts, rules = config.read("briefing", _Texts, Rules)
    return BriefingSettings(**asdict(texts), rules=rules)


def issuer_name(config: Config, settings: BriefingSettings) -> str:
    """开封市 + 市政府督查局 reads 开封市政府督查局: the bureau's name already starts with 市."""
    if settings.issuer:
        return settings.issuer
    city, name = config.bureau.city, config.bureau.name
    if city.endswith("市") and name.startswith("市"):
        return city + name[1:]
    return city + name
