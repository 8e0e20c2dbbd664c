"""The store: what is recorded comes back whole, one file per transaction, history across periods."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tests.merge_fixtures import COMMERCE, NDRC, checked, error, warning
from toolkit.config import load_config
from toolkit.errors import DuchaError
from toolkit.quarter.prefill import last_answers
from toolkit.quarter.schema import SCHEMA, SCHEMA_VERSION
from toolkit.quarter.store import open_store


def test_a_recorded_file_comes_back_with_paths_issues_and_rows(tmp_path: Path) -> None:
    cf = checked(NDRC, "2024-03-20T10:00:00", {1: ("正常推进", 30.0), 2: ("进度滞后", None)},
                 issues=[warning()], indicators={(1, "经济增长"): 6.1}, problems="资金未到位")
    with open_store(tmp_path / "ducha.db") as store:
        store.record(cf, "2024Q1", "/archive/2024Q1/x.xlsx", "accepted")
        store.add_path(cf.sha256, "/drop/copy.xlsx", "2024-03-21T09:00:00")
        [record] = store.load_period("2024Q1")
    assert (record.sha256, record.unit, record.received, record.verdict) == (
        cf.sha256, NDRC, "2024-03-20T10:00:00", "accepted")
    assert record.paths == [(cf.path, "2024-03-20T10:00:00"), ("/drop/copy.xlsx", "2024-03-21T09:00:00")]
    assert record.issues == cf.issues
    assert record.tasks == cf.tasks
    assert record.tasks[1].progress is None and record.tasks[1].problems == "资金未到位"
    assert record.indicators == cf.indicators
    assert record.filler == {"填报人": "李四"} and record.signed


def test_rechecking_a_file_replaces_its_rows_instead_of_adding(tmp_path: Path) -> None:
    cf = checked(NDRC, "2024-03-20T10:00:00", issues=[error(), warning()])
    with open_store(tmp_path / "ducha.db") as store:
        store.record(cf, "2024Q1", "/a", "rejected")
        cf.issues = [warning()]
        store.record(cf, "2024Q1", "/a", "accepted")
        [record] = store.load_period("2024Q1")
    assert record.issues == [warning()]
    assert record.verdict == "accepted"


def test_a_failure_inside_a_file_write_leaves_nothing_of_that_file(tmp_path: Path) -> None:
    good = checked(NDRC, "2024-03-20T10:00:00")
    bad = checked(COMMERCE, "2024-03-21T10:00:00")
    bad.tasks.append(None)  # fails after the file, submission and issue rows were written
    with open_store(tmp_path / "ducha.db") as store:
        store.record(good, "2024Q1", "/a", "accepted")
        with pytest.raises(AttributeError):
            store.record(bad, "2024Q1", "/b", "accepted")
        assert [r.unit for r in store.load_period("2024Q1")] == [NDRC]
        assert store.checked_periods(bad.sha256) == {}
        assert all(bad.sha256 not in repr(rows) for rows in store.dump().values())


def test_checks_are_kept_per_period(tmp_path: Path) -> None:
    cf = checked(NDRC, "2024-03-20T10:00:00", period="2024Q2", issues=[error("wrong_period")])
    with open_store(tmp_path / "ducha.db") as store:
        store.record(cf, "2024Q1", "/a", "rejected", other_period=True)
        cf.issues = []
        store.record(cf, "2024Q2", "/a", "accepted")
        assert store.checked_periods(cf.sha256) == {"2024Q1": True, "2024Q2": False}
        assert [r.verdict for r in store.load_period("2024Q1")] == ["rejected"]
        assert [r.verdict for r in store.load_period("2024Q2")] == ["accepted"]
        assert len(store.dump()["files"]) == 1


def test_schema_is_versioned_and_a_newer_store_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "ducha.db"
    with open_store(path) as store:
        assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"files", "file_paths", "submissions", "issues", "task_reports", "indicator_reports"} <= tables
    assert all("IF NOT EXISTS" in statement for statement in SCHEMA)
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(DuchaError, match="更新版本的 ducha"), open_store(path):
        pass


def test_a_store_of_the_previous_version_gains_every_table_added_since(tmp_path: Path) -> None:
    """A bureau's store from last quarter (version 7) opened by this ducha gets the tables for
    requests, evidence, reviews, unit plans, notices and confirmations, and keeps its rows."""
    path = tmp_path / "ducha.db"
    with open_store(path) as store:
        every = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    conn = sqlite3.connect(path)
    newer = sorted(every - {"files", "file_paths", "submissions", "issues", "task_reports", "indicator_reports",
                            "sqlite_sequence"})
    for table in newer:
        conn.execute(f"DROP TABLE {table}")
    conn.execute("INSERT INTO files VALUES ('abc', 'a.xlsx', 1, '2024-03-20', 'xlsx', 'x')")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    with open_store(path) as store:
        tables = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        assert store.conn.execute("SELECT path FROM files").fetchall() == [("a.xlsx",)]
    assert tables == every
    assert {"notices", "verify_confirmations"} <= set(newer)


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ducha.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(DuchaError, match="无法打开数据库"), open_store(path):
        pass


def test_last_answers_come_from_the_latest_accepted_file_before_the_period(workspace: Path) -> None:
    config = load_config(workspace)
    q1 = checked(NDRC, "2024-03-20T10:00:00", {1: ("正常推进", 30.0), 2: ("进度滞后", 10.0)},
                 indicators={(1, "经济增长"): 6.1}, problems="资金未到位")
    q1_old = checked(NDRC, "2024-03-10T10:00:00", {1: ("未启动", 0.0)})
    q2 = checked(NDRC, "2024-06-20T10:00:00", {1: ("已完成", 100.0)}, period="2024Q2")
    with open_store(config.paths.store) as store:
        store.record(q1, "2024Q1", "/a", "accepted")
        store.record(q1_old, "2024Q1", "/b", "superseded")
        store.record(q2, "2024Q2", "/c", "accepted")
    tasks, indicators = last_answers(config, NDRC, "2024Q2")
    assert tasks == {
        1: {"status": "正常推进", "progress": 30.0, "done": "按计划推进", "problems": "资金未到位", "next": "继续推进",
            "person": "李四", "phone": "13800000000"},
        2: {"status": "进度滞后", "progress": 10.0, "done": "按计划推进", "problems": "资金未到位",
            "next": "继续推进", "person": "李四", "phone": "13800000000"},
    }
    assert indicators == {(1, "经济增长"): {"value": 6.1, "note": ""}}
    assert last_answers(config, NDRC, "2024Q3")[0][1]["status"] == "已完成"
    assert last_answers(config, NDRC, "2024Q1") == ({}, {})
    assert last_answers(config, COMMERCE, "2024Q2") == ({}, {})


def test_last_answers_without_a_store_is_empty_and_creates_nothing(workspace: Path) -> None:
    config = load_config(workspace)
    assert last_answers(config, NDRC, "2024Q2") == ({}, {})
    assert not config.paths.store.exists()


def test_latest_indicator_values_keep_the_last_known_number(tmp_path: Path) -> None:
    q1 = checked(NDRC, "2024-03-20T10:00:00", indicators={(1, "经济增长"): 6.1})
    q2 = checked(NDRC, "2024-06-20T10:00:00", indicators={(1, "经济增长"): 6.3}, period="2024Q2")
    rejected = checked(NDRC, "2024-06-21T10:00:00", indicators={(1, "经济增长"): 99.0}, period="2024Q2")
    with open_store(tmp_path / "ducha.db") as store:
        store.record(q1, "2024Q1", "/a", "accepted")
        store.record(q2, "2024Q2", "/b", "accepted")
        store.record(rejected, "2024Q2", "/c", "rejected")
        assert store.latest_indicator_values("2024Q2") == {(NDRC, 1, "经济增长"): (6.1, "2024Q1")}
        assert store.latest_indicator_values("2024Q4") == {(NDRC, 1, "经济增长"): (6.3, "2024Q2")}


def _two_units_stored(tmp_path: Path, answers: dict) -> tuple[list, list]:
    """Two units' files with the same answers, recorded for 2024Q1, and the period read back."""
    files = [checked(unit, f"2024-03-2{i}T10:00:00", answers) for i, unit in enumerate((NDRC, COMMERCE))]
    with open_store(tmp_path / "ducha.db") as store:
        for cf in files:
            store.record(cf, "2024Q1", "/archive/2024Q1/x.xlsx", "accepted")
        return files, store.load_period("2024Q1")


def test_a_periods_task_rows_share_their_repeated_values(tmp_path: Path) -> None:
    """Each unit name, role, status, filler name and phone is one string however many rows hold it
    (at 10,000 units the copies SQLite returns per row were ~50 MB of the merge's memory)."""
    files, records = _two_units_stored(tmp_path, {1: ("正常推进", 30.0), 2: ("正常推进", 40.0)})
    assert [r.tasks for r in records] == [cf.tasks for cf in files]
    rows = [t for r in records for t in r.tasks]
    for field in ("unit", "role", "status", "person", "phone"):
        values = [getattr(t, field) for t in rows]
        assert len({id(v) for v in values}) == len(set(values)), field
    fillers = [value for r in records for pair in r.filler.items() for value in pair]
    assert len({id(v) for v in fillers}) == len(set(fillers)) < len(fillers)


def test_task_numbers_are_shared_and_never_become_a_progress(tmp_path: Path) -> None:
    """A task number is one int across the period's rows, and 300 stays the int 300 beside a
    progress of 300.0 (equal keys in one lookup table would have swapped them)."""
    _, records = _two_units_stored(tmp_path, {300: ("正常推进", 300.0), 301: ("正常推进", 301.0)})
    rows = [t for r in records for t in r.tasks]
    assert [(type(t.task_no), type(t.progress)) for t in rows] == [(int, float)] * 4
    assert rows[0].task_no is rows[2].task_no and rows[1].task_no is rows[3].task_no


def test_a_periods_plan_rows_share_their_repeated_values_and_keep_their_numbers(tmp_path: Path) -> None:
    """节点计划 rows read back whole for the quarter: each repeated value one object (150,000 rows at
    10,000 units held 53 MB of copies), 节点序号 300 stays the int beside a planned progress of 300.0
    (numbers past CPython's cache of small ints, which are one object anyway), and a row pickles (to
    the output workers) as it was."""
    import pickle

    from toolkit.model import PLAN_CHANGE, PLAN_NEW, PlanRow

    files = [checked(unit, f"2024-03-2{i}T10:00:00", {1: ("正常推进", 30.0)}) for i, unit in enumerate((NDRC, COMMERCE))]
    for cf in files:
        cf.plans = [PlanRow(cf.unit, 300, PLAN_NEW, seq, "完成项目前期手续", "2024-06-30", float(seq), "王五", "", "", seq - 290)
                    for seq in (300, 301)]
    files[1].plans.append(PlanRow(COMMERCE, 300, PLAN_CHANGE, 302, "调整", "2024-09-30", 100.0, "王五", "", "", 20,
                                  was="2024-06-30 完成项目前期手续"))
    with open_store(tmp_path / "ducha.db") as store:
        for cf in files:
            store.record(cf, "2024Q1", "/archive/2024Q1/x.xlsx", "accepted")
        records = store.load_period("2024Q1")
    assert [r.plans for r in records] == [cf.plans for cf in files]
    rows = [p for r in records for p in r.plans]
    assert [(type(p.seq), type(p.task_no), type(p.progress)) for p in rows] == [(int, int, float)] * 5
    for field in ("unit", "kind", "content", "due", "person", "state", "actual", "was", "task_no"):
        values = [getattr(p, field) for p in rows]
        assert len({id(v) for v in values}) == len(set(values)), field
    assert rows[0].content is rows[3].content and rows[0].seq is rows[2].seq
    assert pickle.loads(pickle.dumps(rows)) == rows


def test_a_checked_file_comes_back_from_a_reading_worker_whole() -> None:
    """A reading worker's CheckedFile is pickled to the merge: its rows come back equal, each
    rebuilt through its class (model._by_init), with a request, a missing progress and an
    indicator's missing value."""
    import pickle

    from toolkit.model import CheckedFile, IndicatorReport, Request, TaskReport

    request = Request("申请延期", "2024-09-30", "资金未到位", ("批复.pdf",))
    tasks = [TaskReport("市商务局", 7, "牵头", "正常推进", None, "已完成", "无", "继续", "张三", "13800000000", 6, request)]
    indicators = [IndicatorReport("市商务局", 7, "外贸进出口", None, "", 4)]
    checked = CheckedFile("a.xlsx", "0" * 64, 10, "2024-03-27T09:00:00", "xlsx", unit="市商务局", tasks=tasks,
                          indicators=indicators)
    back = pickle.loads(pickle.dumps(checked))
    assert back == checked and back.tasks[0].request == request
    for record in (request, tasks[0], indicators[0]):
        assert record.__reduce__() == (type(record), tuple(getattr(record, f) for f in record.__match_args__))
