"""Speed (issue 18): the ledger looks names and numbers up by index, not by scanning, and the
answers stay exactly the scans' answers, also after the ledger's lists are replaced or edited."""

from __future__ import annotations

import dataclasses

from toolkit.model import Ledger, Milestone, Task, Unit


def _ledger(n_units: int, n_tasks: int) -> Ledger:
    units = [Unit(f"单位{i:05d}", "市直部门", aliases=(f"别名{i:05d}",)) for i in range(n_units)]
    tasks = [Task(no, "二", "（一）", f"{no}. 任务", ("张三",), "", units[no % n_units].name) for no in range(1, n_tasks + 1)]
    return Ledger(tasks, units)


class _Counted(list):
    """A list that counts how often it is walked through: a scan per lookup walks it each time."""

    walks = 0

    def __iter__(self):
        type(self).walks += 1
        return super().__iter__()


def test_lookups_by_name_and_number_do_not_scan_the_ledger():
    ledger = _ledger(10_000, 20_000)
    ledger.units, ledger.tasks = _Counted(ledger.units), _Counted(ledger.tasks)
    _Counted.walks = 0
    for i in range(10_000):
        assert ledger.unit(f"别名{i:05d}").name == f"单位{i:05d}"
        assert ledger.task(i + 1).no == i + 1
        assert ledger.find_task(i + 1).no == i + 1
    assert _Counted.walks == 2  # each list once, to build its index; a scan would be 30,000 walks
    assert ledger.find_task(99_999) is None and ledger.find_task("7") is None


def test_lookups_see_a_replaced_or_edited_list():
    ledger = _ledger(3, 3)
    assert ledger.unit("单位00001").name == "单位00001"
    assert ledger.unit("新单位") is None
    ledger.units = [*ledger.units, Unit("新单位", "县区")]
    assert ledger.unit("新单位").kind == "县区"
    ledger.units[0] = dataclasses.replace(ledger.units[0], aliases=("改名",))
    assert ledger.unit("改名").name == "单位00000"
    assert ledger.unit("别名00000") is None
    ledger.units.append(Unit("又一个", "县区"))
    assert ledger.unit("又一个").name == "又一个"
    assert ledger.task(2).content == "2. 任务"
    ledger.tasks[1] = dataclasses.replace(ledger.tasks[1], content="改过")
    assert ledger.task(2).content == "改过"
    ledger.tasks.append(Task(9, "二", "（一）", "9. 新", ("张三",), "", "单位00000"))
    assert ledger.task(9).content == "9. 新"
    ledger.milestones = [Milestone(2, 2, "后", dt_(5), 80), Milestone(2, 1, "先", dt_(3), 20)]
    assert [m.content for m in ledger.plan(2)] == ["先", "后"]
    assert ledger.plan(3) == []


def test_plans_are_looked_up_by_index_and_ordered_as_the_scan_orders_them():
    ledger = _ledger(10, 2_000)
    # Dates and 节点序号 out of order, ties on both kept in list order, tasks interleaved.
    plan = [Milestone(no, seq, f"{no}-{seq}-{k}", dt_(day), 10.0 * seq)
            for k, (seq, day) in enumerate([(3, 9), (1, 9), (2, 4), (1, 9)]) for no in range(1, 2_001, 2)]
    ledger.milestones = _Counted(plan)
    _Counted.walks = 0
    for task in ledger.tasks:
        expected = sorted((m for m in list.__iter__(plan) if m.task_no == task.no), key=lambda m: (m.due, m.seq))
        assert ledger.plan(task.no) == expected
    assert _Counted.walks == 1  # once, to build the index; a scan per task would be 2,000 walks
    assert [m.content for m in ledger.plan(1)] == ["1-2-2", "1-1-1", "1-1-3", "1-3-0"]
    ledger.plan(1).clear()  # a caller's copy: the index keeps its own
    assert len(ledger.plan(1)) == 4


def test_a_plan_follows_its_list_being_replaced_or_grown():
    ledger = _ledger(3, 3)
    ledger.milestones = [Milestone(1, 1, "先", dt_(3), 20)]
    assert [m.content for m in ledger.plan(1)] == ["先"]
    ledger.milestones.append(Milestone(1, 2, "更先", dt_(2), 10))
    assert [m.content for m in ledger.plan(1)] == ["更先", "先"]
    ledger.milestones = [Milestone(3, 1, "别的", dt_(4), 50)]
    assert ledger.plan(1) == [] and [m.content for m in ledger.plan(3)] == ["别的"]


def test_the_first_of_two_units_with_one_name_wins_as_in_the_scan():
    ledger = Ledger([], [Unit("甲", "市直部门", aliases=("同名",)), Unit("乙", "市直部门", aliases=("同名",))])
    assert ledger.unit("同名").name == "甲"


def test_an_index_is_not_part_of_equality_or_repr():
    a, b = _ledger(3, 3), _ledger(3, 3)
    a.unit("单位00001")
    assert a == b
    assert repr(a) == repr(b)


def dt_(day: int):
    import datetime as dt

    return dt.date(2024, 3, day)


def test_league_ranks_are_competition_ranks_without_comparing_every_pair():
    from toolkit.quarter.scores import _ranks

    scores = {"甲": 90.0, "乙": 95.5, "丙": 90.0, "丁": 80.0, "县": 70.0}
    groups = {"甲": "市直", "乙": "市直", "丙": "市直", "丁": "市直", "县": "县区"}
    assert _ranks(scores, groups) == {"甲": 2, "乙": 1, "丙": 2, "丁": 4, "县": 1}
    many = {f"单位{i}": _Score(i % 997) for i in range(20_000)}
    _Score.compared = 0
    ranks = _ranks(many, dict.fromkeys(many, "市直"))
    assert _Score.compared < 1_000_000  # sorting and bisecting: ~300,000; every pair: 400 million
    assert ranks["单位996"] == 1 and ranks["单位0"] == 20_000 - 21 + 1


class _Score(float):
    """A score that counts the comparisons made with it."""

    compared = 0

    def __lt__(self, other):
        type(self).compared += 1
        return float(self) < float(other)

    def __gt__(self, other):
        type(self).compared += 1
        return float(self) > float(other)

    def __le__(self, other):
        type(self).compared += 1
        return float(self) <= float(other)

    def __ge__(self, other):
        type(self).compared += 1
        return float(self) >= float(other)


def _double(shared: int, item: int) -> int:
    return shared * item


def test_a_watcher_is_told_how_far_each_map_has_got():
    from toolkit import pool

    told: list[tuple[str, int, int]] = []
    with pool.watch(lambda name, done, total: told.append((name, done, total))):
        assert pool.parallel_map(_double, [1, 2, 3], 2) == [2, 4, 6]
        assert list(pool.guarded_map(_double, [5, 6], 3, seconds=None, memory_mb=None)) == [15, 18]
    pool.parallel_map(_double, [1], 2)
    assert told == [("_double", 1, 3), ("_double", 2, 3), ("_double", 3, 3), ("_double", 1, 2), ("_double", 2, 2)]


class _Terminal:
    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_is_drawn_on_a_terminal_only_and_never_with_json(monkeypatch, capsys):
    import sys
    import threading

    from toolkit import pool
    from toolkit.cli.progress import progress

    with progress(as_json=False):
        assert not pool._WATCHERS  # stdout is not a terminal (cron, a pipe)
    monkeypatch.setattr(sys, "stdout", _Terminal())
    with progress(as_json=True):
        assert not pool._WATCHERS
    threads = threading.active_count()
    with progress(as_json=False):
        assert len(pool._WATCHERS) == 1  # a person is watching: the pool's jobs drive the bars
        pool.parallel_map(_double, list(range(60)), 1)
        assert threading.active_count() == threads  # no refresh thread: the pool may fork from here
    assert not pool._WATCHERS
    assert capsys.readouterr().out == ""  # the bars go to stderr, never into the result


def test_the_command_line_starts_without_pandas():
    """Every command, `ducha --help` and a quiet `ducha merge` rerun pay for what they import
    before doing anything: the library's heavy modules come with the command that needs them."""
    import subprocess
    import sys

    code = "import sys, toolkit.cli.app, toolkit.outputs.rerun; print('pandas' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "False"


def test_generate_lists_many_workbooks_as_plain_lines_and_few_as_a_table(tmp_path, built, monkeypatch):
    import shutil

    from click.testing import CliRunner

    from toolkit.cli import quarter
    from toolkit.cli.app import cli

    shutil.copy(built, tmp_path / "master_ledger.xlsx")
    (tmp_path / "ducha.toml").write_text("", encoding="utf-8")
    args = ["--config", str(tmp_path), "generate", "--period", "2024Q1", "--units", "市商务局,市财政局"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert "┃ 单位" in table.output and "　牵头 " not in table.output
    monkeypatch.setattr(quarter, "TABLE_ROWS", 1)
    plain = CliRunner().invoke(cli, args)
    assert plain.exit_code == 0, plain.output
    lines = plain.output.splitlines()
    assert lines[0] == "2024年第一季度填报表"
    assert lines[1].startswith("市商务局　牵头 ") and "　配合 " in lines[1] and "　指标 " in lines[1]
    assert lines[2].startswith("市财政局　牵头 ")
    assert lines[3].startswith("已生成 2 个填报表")


def test_a_returned_plan_row_left_to_its_lead_looks_no_unit_up(tmp_path):
    # A blank 责任单位 (the lead's) used to be looked up, and a lookup that finds nothing scans every
    # unit: 15 such rows a file, O(files × units) over a merge (14.9 → 5.1 ms a file at 1,000 units).
    from tests.return_fixtures import COMMERCE, SECRET
    from tests.test_unit_plans import Q1, issue, plan_rows, planned_ledger
    from toolkit.demo.unitsim import fill
    from toolkit.intake.check import check_file
    from toolkit.intake.sniff import Limits

    ledger = planned_ledger()
    src = issue(tmp_path / "out", COMMERCE, Q1, ledger)
    back = fill(src, tmp_path / "back" / src.name, mutate=[plan_rows(
        (7, None, None, "完成活动方案", dt_(30).replace(month=4), 30, "赵六"),
        (8, None, None, "开展系列活动", dt_(30).replace(month=11), 100, "赵六"))])
    ledger.units = _Counted(ledger.units)
    _Counted.walks = 0
    checked = check_file(back, ledger=ledger, period=Q1, secret=SECRET, limits=Limits())
    assert checked.issues == []
    assert [(p.task_no, p.seq) for p in checked.plans] == [(2, 1), (2, 2), (2, 3), (3, 1), (3, 2)]
    assert _Counted.walks == 1  # the index, once
