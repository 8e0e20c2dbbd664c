"""`ducha init`: a new workspace, and what to do next, in Chinese."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from toolkit.cli.base import Command, emit, json_option

_NOTES = {
    "config": "每一项都有中文说明",
    "secret": "仅本账户可读；签名下发的填报表，切勿外发，请单独备份",
    "ignore": "列出不可提交、不可外发的文件",
}
_OPTIONS = {"city": "--city", "year": "--year", "name": "--bureau"}


@click.command(cls=Command, name="init")
@click.argument("folder", metavar="[文件夹]", required=False, type=click.Path(path_type=Path, file_okay=False))
@click.option("--city", default=None, help="城市，如 开封市（默认 开封市）/ the city")
@click.option("--year", type=click.IntRange(2000, 2100), default=None,
              help="政府工作报告的年份（默认今年）/ the year of the work report (default: this year)")
@click.option("--bureau", default=None, help="督查局名称，如 市政府督查局 / the bureau's name")
@json_option
@click.pass_context
def init_command(ctx: click.Context, folder: Path | None, city: str | None, year: int | None,
                 bureau: str | None, as_json: bool) -> None:
    """新建工作区：配置文件、文件夹、密钥；已有的文件一律不改动 / make a new workspace (never overwrites)."""
    from toolkit.workspace import init_workspace

    config_path = ctx.find_root().params.get("config_path")
    default = (config_path if config_path.is_dir() else config_path.parent) if config_path else Path.cwd()
    result = init_workspace(folder or default, city=city, year=year, bureau=bureau)

    def render(data: dict[str, Any]) -> None:
        made = [i for i in data["items"] if i["created"]]
        kept = [i for i in data["items"] if not i["created"]]
        click.echo(f"已建立工作区：{data['root']}" if made else f"工作区已存在，没有改动任何文件：{data['root']}")
        for item in made:
            name = Path(item["path"]).name + ("/" if item["kind"] == "folder" else "")
            click.echo(f"  新建 {name}　{item['label']}" + (f"：{_NOTES[item['kind']]}" if item["kind"] in _NOTES else ""))
        if made and kept:
            click.echo("  已有、未改动：" + "、".join(Path(i["path"]).name for i in kept))
        for key, (given, found) in data["not_applied"].items():
            click.echo(f"注意：ducha.toml 已存在，未改动，{_OPTIONS[key]} {given} 没有生效（其中为 {found}）；"
                       "如需修改，请直接编辑 ducha.toml")
        click.echo("下一步：")
        for number, step in enumerate(_next_steps(data), 1):
            click.echo(f"  {number}. {step}")

    emit(result.as_dict(), as_json, render)


def _next_steps(data: dict[str, Any]) -> list[str]:
    from toolkit.workspace import NOTICE_FOLDER

    steps = []
    if Path(data["root"]) != Path.cwd().resolve():
        steps.append(f"进入工作区：cd \"{data['root']}\"（以后的命令都在这个文件夹里运行）")
    if data["placeholders"]:
        steps.append("用记事本打开 ducha.toml，在 [bureau] 中填写督查局的联系人、电话、邮箱和地址（现在是示例值）")
    if not data["has_ledger"]:
        folder = next((Path(i["path"]).name for i in data["items"] if i["label"] == NOTICE_FOLDER), "")
        where, typed = (f" {folder} 文件夹", f"{folder}/通知文件名") if folder else ("工作区", "通知文件名")
        steps.append(f"把任务分解通知（.docx、.pdf、.html、.txt 或 .md）放进{where}，运行 ducha ledger import {typed}，"
                     "生成总台账；任务不是来自这样的通知时，运行 ducha ledger template，得到空白总台账，照示例行填写")
    steps.append("运行 ducha doctor 检查工作区")
    return steps
