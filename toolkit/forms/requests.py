"""The dropdown and date checks on the request columns of 进展填报 (申请事项, 申请完成时间).

Kept apart from the writer so the words a unit sees when it asks for an extension or a closing live
in one place, next to the rules they announce (toolkit.intake.requests enforces the same rules).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from toolkit.forms import layout

_CHOICES = "、".join(layout.REQUESTS)


def request_validations() -> list[tuple[str, dict[str, Any]]]:
    """(REQUEST_COLUMNS key, xlsxwriter data_validation options) for each checked request column."""
    return [
        (
            "request",
            {
                "validate": "list",
                "source": list(layout.REQUESTS),
                "input_title": "申请事项",
                "input_message": f"一般不填或选“无”。需延长时间节点选“{layout.REQUEST_EXTEND}”，并填写申请完成时间和理由；"
                f"任务已全部完成、申请销号选“{layout.REQUEST_CLOSE}”，并在“佐证材料”写明随表报送的文件名。",
                "error_title": "申请事项不正确",
                "error_message": f"申请事项只能是：{_CHOICES}。请从下拉列表中选择。",
            },
        ),
        (
            "request_date",
            {
                "validate": "date",
                "criteria": ">=",
                "value": dt.date(2000, 1, 1),
                "input_title": "申请完成时间",
                "input_message": "申请延期时填写新的完成时间，如 2024-12-31，须晚于原时间节点。",
                "error_title": "申请完成时间不正确",
                "error_message": "请填写日期，如 2024-12-31。",
            },
        ),
    ]
