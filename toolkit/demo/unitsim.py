"""Fill a generated workbook the way a unit does, so tests and `make demo` can play a quarter.

A unit opens the workbook in Excel or WPS, types into the shaded cells and saves, sometimes under a
new name and sometimes with mistakes. openpyxl stands in for the unit's office program: it edits
the real generated file and keeps everything it did not touch (the very hidden _meta sheet, the
validations). Typical use:

    answers = good_answers(range(1, 4))            # or good_answers(assignments)
    fill(outbox / "2024Q1_市商务局.xlsx", drop / "商务局(1).xlsx")          # a correct return
    fill(src, dst, mutate=["progress_120", "edit_locked"])                 # a return with mistakes

Each named mutation in MUTATIONS changes the first task row (or the workbook) as a careless unit
would; EXPECTED_CODES says which issue code validate must report for it. A mutation may also be
any callable taking the openpyxl Workbook.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import openpyxl
from openpyxl.workbook import Workbook

from toolkit.forms import layout
from toolkit.fsutil import write_atomic
from toolkit.model import Assignment, Ledger

Answers = dict[int, dict[str, Any]]  # task no → {PROGRESS_COLUMNS key: value}
Mutation = Callable[[Workbook], "Mapping[str, Any] | None"]  # may return {formula: cached value}

DEFAULT_FILLER = {"填报人": "李明", "联系电话": "0371-23859529", "单位负责人": "王强", "填报日期": "2024-03-20"}

# One answer per status; good_answers cycles through them so a filled workbook shows all four.
_ANSWER_CYCLE = (
    {"status": "正常推进", "progress": 60, "done": "已完成年度任务的六成，项目按计划推进。", "problems": "",
     "next": "加快推进剩余工作，确保按期完成。"},
    {"status": "已完成", "progress": 100, "done": "已全面完成年度任务，并通过验收。", "problems": "",
     "next": "巩固成果，做好长效管理。"},
    {"status": "进度滞后", "progress": 10, "done": "已完成前期调研和方案编制。", "problems": "资金到位较慢，影响施工进度。",
     "next": "协调资金，倒排工期，力争下季度赶上序时进度。"},
    {"status": "未启动", "progress": 0, "done": "", "problems": "前期手续尚在办理。", "next": "加快办理前期手续，尽快启动。"},
)


def good_answers(tasks: Iterable[Assignment | int], seed: int = 0) -> Answers:
    """Correct, complete answers for the given tasks (assignments or task numbers): no errors and
    no warnings when validated. seed shifts which task gets which status."""
    answers: Answers = {}
    for i, task in enumerate(tasks):
        no = task.task.no if isinstance(task, Assignment) else int(task)
        answer = dict(_ANSWER_CYCLE[(i + seed) % len(_ANSWER_CYCLE)])
        answer |= {"person": f"责任人{no}", "phone": f"1380378{no % 10000:04d}"}
        if answer["done"]:  # each task in its own words: one text on many tasks is 疑似不实 (quarter/verify)
            answer["done"] = f"第{no}项{answer['done']}"
        answers[no] = answer
    return answers


def task_rows(wb: Workbook) -> dict[int, int]:
    """Task no → Excel row in 进展填报, as the generator laid them out."""
    ws = wb[layout.SHEET_PROGRESS]
    rows = {}
    for row in range(layout.FIRST_DATA_ROW, ws.max_row + 1):
        value = ws.cell(row, 1).value
        if isinstance(value, int | float):
            rows[int(value)] = row
    return rows


def _col(key: str) -> int:
    return layout.column_index(layout.PROGRESS_COLUMNS + layout.REQUEST_COLUMNS, key)


_INDICATOR_COL = {c.key: i for i, c in enumerate(layout.INDICATOR_COLUMNS, start=1)}


def _first_row(wb: Workbook) -> int:
    return min(task_rows(wb).values())


def _set(key: str, value: Any) -> Mutation:
    def mutate(wb: Workbook) -> None:
        wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col(key)).value = value

    return mutate


def answer(no: int, **values: Any) -> Mutation:
    """A mutation that gives task no its own answer (PROGRESS_COLUMNS keys → values), for a
    scenario that needs one task answered a certain way, not the cycled good answers."""

    def mutate(wb: Workbook) -> None:
        row = task_rows(wb)[no]
        for key, value in values.items():
            wb[layout.SHEET_PROGRESS].cell(row, _col(key)).value = value

    return mutate


def indicator(no: int, name: str, value: Any) -> Mutation:
    """A mutation that types value as the unit's 截至本季度完成值 of one 量化指标 (no, name)."""

    def mutate(wb: Workbook) -> None:
        ws = wb[layout.SHEET_INDICATORS]
        ws.cell(_indicator_rows(ws)[(no, name)], _INDICATOR_COL["value"]).value = value

    return mutate


def _edit_locked(wb: Workbook) -> None:
    cell = wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("content"))
    cell.value = f"{cell.value}（已调整）"


def _delete_row(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].delete_rows(_first_row(wb))


def _duplicate_row(wb: Workbook) -> None:
    ws = wb[layout.SHEET_PROGRESS]
    source, target = _first_row(wb), max(task_rows(wb).values()) + 1
    for col in range(1, len(layout.PROGRESS_COLUMNS) + 1):
        ws.cell(target, col).value = ws.cell(source, col).value


def _swap_rows(wb: Workbook) -> None:
    ws = wb[layout.SHEET_PROGRESS]
    first, second = sorted(task_rows(wb).values())[:2]
    for col in range(1, len(layout.PROGRESS_COLUMNS) + 1):
        a, b = ws.cell(first, col), ws.cell(second, col)
        a.value, b.value = b.value, a.value


def _renumber(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("no")).value = 999


def _rename_sheet(wb: Workbook) -> None:
    wb[layout.SHEET_PROGRESS].title = "Sheet1"


def _remove_meta(wb: Workbook) -> None:
    del wb[layout.SHEET_META]


def _formula(wb: Workbook) -> dict[str, Any]:
    wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("progress")).value = "=40+20"
    return {"40+20": 60}


def _percent(wb: Workbook) -> None:
    cell = wb[layout.SHEET_PROGRESS].cell(_first_row(wb), _col("progress"))
    cell.value, cell.number_format = 0.6, "0%"


MUTATIONS: dict[str, Mutation] = {
    "wrong_status": _set("status", "差不多了"),
    "synonym_status": _set("status", "推进中"),
    "progress_120": _set("progress", 120),
    "progress_text": _set("progress", "八成"),
    "progress_percent_text": _set("progress", "６０％"),
    "progress_percent_format": _percent,
    "no_person": _set("person", None),
    "bad_phone": _set("phone", "12345"),
    "edit_locked": _edit_locked,
    "delete_row": _delete_row,
    "duplicate_row": _duplicate_row,
    "swap_rows": _swap_rows,
    "renumber": _renumber,
    "rename_sheet": _rename_sheet,
    "remove_meta": _remove_meta,
    "formula": _formula,
}

# mutation → (level, code) validate reports; None when the file stays clean.
EXPECTED_CODES: dict[str, tuple[str, str] | None] = {
    "wrong_status": ("error", "status_invalid"),
    "synonym_status": ("warning", "status_normalised"),
    "progress_120": ("error", "progress_out_of_range"),
    "progress_text": ("error", "progress_invalid"),
    "progress_percent_text": None,
    "progress_percent_format": None,
    "no_person": ("warning", "person_missing"),
    "bad_phone": ("warning", "phone_invalid"),
    "edit_locked": ("error", "locked_cell_changed"),
    "delete_row": ("error", "task_missing"),
    "duplicate_row": ("error", "task_duplicated"),
    "swap_rows": ("warning", "task_reordered"),
    "renumber": ("error", "task_renumbered"),
    "rename_sheet": ("warning", "sheet_renamed"),
    "remove_meta": ("warning", "unsigned"),
    "formula": ("warning", "formula_used"),
}


def fill(
    src: Path,
    dst: Path,
    answers: Answers | None = None,
    *,
    filler: Mapping[str, Any] | None = None,
    indicators: Mapping[tuple[int, str], Any] | None = None,
    mutate: Sequence[str | Mutation] = (),
    seed: int = 0,
) -> Path:
    """Fill the workbook at src as a unit would and save it at dst (any name; folders created).

    answers default to good_answers for the workbook's tasks; filler to DEFAULT_FILLER; indicator
    values ((task no, name) → value) default to default_value; seed varies the default
    answers (a unit's second, corrected return). mutate applies MUTATIONS by
    name, or callables, after filling."""
    wb = openpyxl.load_workbook(src)
    rows = task_rows(wb)
    answers = good_answers(rows, seed) if answers is None else answers
    ws = wb[layout.SHEET_PROGRESS]
    for no, values in answers.items():
        for key, value in values.items():
            ws.cell(rows[no], _col(key)).value = value
    for label, _, value_col in layout.FILLER_FIELDS:
        ws.cell(layout.FILLER_ROW, value_col).value = (DEFAULT_FILLER if filler is None else filler).get(label)
    if layout.SHEET_INDICATORS in wb.sheetnames:
        finished = {no for no, values in answers.items() if values.get("status") == layout.STATUS_DONE}
        _fill_indicators(wb[layout.SHEET_INDICATORS], indicators, finished)
    cached: dict[str, Any] = {}
    for mutation in mutate:
        cached |= (MUTATIONS[mutation] if isinstance(mutation, str) else mutation)(wb) or {}

    def save(tmp: Path) -> None:
        wb.save(tmp)
        if cached:
            _store_cached_values(tmp, cached)

    return write_atomic(dst, save)


def _indicator_rows(ws: Any) -> dict[tuple[int, str], int]:
    """(task no, 指标名称) → Excel row in 量化指标."""
    rows = {}
    for row in range(layout.INDICATOR_FIRST_ROW, ws.max_row + 1):
        no, name = ws.cell(row, _INDICATOR_COL["no"]).value, ws.cell(row, _INDICATOR_COL["name"]).value
        if no is not None:
            rows[(int(no), str(name))] = row
    return rows


def default_value(target: Any, finished: bool) -> float | None:
    """What a unit reports for a 量化指标 unless told otherwise: the target of a task it calls
    已完成 (anything less is 疑似不实), else half of it."""
    if not isinstance(target, int | float):
        return None
    return float(target) if finished else round(float(target) / 2, 2)


def _fill_indicators(ws: Any, values: Mapping[tuple[int, str], Any] | None, finished: set[int]) -> None:
    for key, row in _indicator_rows(ws).items():
        target = ws.cell(row, _INDICATOR_COL["target"]).value
        default = default_value(target, key[0] in finished)
        ws.cell(row, _INDICATOR_COL["value"]).value = default if values is None else values.get(key)


def _store_cached_values(path: Path, cached: Mapping[str, Any]) -> None:
    """Write each formula's result into the file, as Excel does on save (openpyxl leaves it
    empty), so readers see what the unit saw."""
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if info.filename.startswith("xl/worksheets/"):
                for formula, value in cached.items():
                    pattern = re.compile(rb"<f>" + re.escape(formula.encode()) + rb"</f><v\s*/?>(</v>)?")
                    data = pattern.sub(f"<f>{formula}</f><v>{value}</v>".encode(), data)
            zf.writestr(info, data)


# --- fast returns, for the bench and the crash tests ---------------------------------------------


def answers_for(ledger: Ledger, seed: int = 0) -> Callable[[str], tuple[Answers, dict[tuple[int, str], Any]]]:
    """answers(unit) for forms.generate.generate_from: good_answers and each 量化指标's default_value,
    written while the workbook is generated. With filler_xml() this makes a clean return in ~5 ms
    instead of fill()'s ~25 ms (openpyxl loads and re-saves the whole workbook), which is what
    10,000 returns for the bench, or a few hundred for a crash test, need."""
    assignments = ledger.assignments()

    def answers(unit: str) -> tuple[Answers, dict[tuple[int, str], Any]]:
        rows = assignments.get(unit, [])
        given = good_answers(rows, seed)
        indicators = {
            (i.task_no, i.name): {"value": default_value(i.target, given[i.task_no]["status"] == layout.STATUS_DONE),
                                  "note": ""}
            for i in ledger.indicators_for(unit, rows)
        }
        return given, indicators

    return answers


def filler_xml(path: Path, filler: Mapping[str, str] | None = None, target: Path | None = None) -> Path:
    """Type the filler block (填报人, 联系电话, 单位负责人, 填报日期) into a workbook xlsxwriter
    generated, by editing 进展填报's sheet XML: the blank value cells become inline strings, as a
    client may save them. Writes target (atomically; default: path itself, rewritten in place);
    the _meta signature is untouched."""
    filler = DEFAULT_FILLER if filler is None else filler
    with zipfile.ZipFile(path) as zf:
        members = [(info, zf.read(info)) for info in zf.infolist()]
        sheet = _sheet_member(zf, layout.SHEET_PROGRESS)
    edited = []
    for info, data in members:
        if info.filename == sheet:
            for label, _, value_col in layout.FILLER_FIELDS:
                ref = str(layout.cell(layout.FILLER_ROW, value_col)).encode()
                text = escape(str(filler.get(label, ""))).encode()
                data, found = re.subn(
                    rb'<c r="' + ref + rb'"( s="\d+")?/>',
                    lambda m, r=ref, t=text: b'<c r="%s"%s t="inlineStr"><is><t>%s</t></is></c>' % (
                        r, m[1] or b"", t),
                    data,
                )
                if found != 1:
                    raise ValueError(f"{path}: no blank {layout.SHEET_PROGRESS}!{ref.decode()} to fill")
        edited.append((info, data))

    def save(tmp: Path) -> None:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zf:
            for info, data in edited:
                zf.writestr(info, data)

    return write_atomic(target or path, save)


def _sheet_member(zf: zipfile.ZipFile, name: str) -> str:
    """The zip member of a sheet, from workbook.xml and its relationships."""
    book = zf.read("xl/workbook.xml").decode("utf-8")
    rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    rid = re.search(r'<sheet name="' + re.escape(escape(name)) + r'" sheetId="\d+" r:id="(rId\d+)"', book)
    target = re.search(r'Id="' + rid[1] + r'"[^>]*Target="([^"]+)"', rels) if rid else None
    if target is None:
        raise ValueError(f"no sheet {name}")
    return "xl/" + target[1].lstrip("/").removeprefix("xl/")
