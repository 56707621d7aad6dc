"""The ``disaster`` command line. Thin: parse options, call a use-case, print the result."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table
from typer.core import TyperGroup

# Only light modules at start-up (`disaster --help` must not wait for SQLAlchemy, GeoPandas, the
# engine or pydantic-settings): each command imports what it uses (tests/test_startup.py).
from disaster.codes import HazardLayer
from disaster.errors import DisasterError, Rejected
from disaster.gc_pause import cycle_collection_paused, no_final_collection
from disaster.importers.problems import ImportRejected
from disaster.resources import DEMO_DATA_DIR, PROJECT_ROOT
from disaster.wareki import parse_date

if TYPE_CHECKING:
    import uvicorn
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from disaster import auditlog
    from disaster.access import Principal
    from disaster.models import DisasterMode, User
    from disaster.usecases.demo import DemoAccount
    from disaster.usecases.disaster_mode import Emergency
    from disaster.usecases.imports import ImportReport

GLOBAL_OPTIONS = ("--db", "--city", "--env-file")
GLOBAL_FLAGS = ("--debug",)


def hoist_global_options(args: list[str]) -> list[str]:
    """Move ``--db``/``--city``/``--env-file`` (and their values) and ``--debug`` to the front,
    so that they work before or after the subcommand; arguments after ``--`` are left alone."""
    front: list[str] = []
    rest: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            rest += args[i:]
            break
        if arg in GLOBAL_FLAGS:
            front.append(arg)
            i += 1
            continue
        if arg.split("=", 1)[0] in GLOBAL_OPTIONS:
            step = 1 if "=" in arg else 2
            front += args[i : i + step]
            i += step
            continue
        rest.append(arg)
        i += 1
    return front + rest


class GlobalOptionsAnywhere(TyperGroup):
    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # ctx: typer's vendored click Context
        return super().parse_args(ctx, hoist_global_options(args))


DEBUG_VARIABLE = "DISASTER_DEBUG"
BUG_EXIT = 70  # sysexits EX_SOFTWARE: an unexpected error (a bug), not the user's input


def debugging() -> bool:
    """``--debug`` or DISASTER_DEBUG=1: errors show their traceback."""
    return os.environ.get(DEBUG_VARIABLE, "") not in {"", "0"}


class DisasterTyper(typer.Typer):
    """The command line as run by the ``disaster`` script: an unexpected exception (a bug) is
    written to a log file without its message (which may hold personal data) and reported in
    one Japanese line with exit code 70; with ``--debug`` it shows the traceback instead.
    (Tests that invoke the click command directly still see the exception.)"""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return typer.main.get_command(self)(*args, **kwargs)
        except Exception as exc:
            if debugging():
                raise
            where = _log_bug(exc)
            errors.print(f"[bold red]内部エラー:[/bold red] 想定外のエラーが起きました（プログラムの不具合です）。"
                         f"状況の記録（個人の情報は含みません）: {where}　--debug を付けて実行すると詳細を表示します。",
                         highlight=False)
            sys.exit(BUG_EXIT)


def _log_bug(exc: BaseException) -> str:
    """Write where ``exc`` happened (exception types, files, lines, functions; no messages or
    values) to an owner-only file under $XDG_STATE_HOME/disaster (default ~/.local/state)."""
    state = Path(os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state") / "disaster"
    lines = [f"disaster {dt.datetime.now().isoformat(timespec='seconds')} argv[1]={sys.argv[1] if len(sys.argv) > 1 else ''}"]
    current: BaseException | None = exc
    while current is not None:
        lines.append(type(current).__module__ + "." + type(current).__qualname__)
        lines += [f"  {f.filename}:{f.lineno} in {f.name}" for f in traceback.extract_tb(current.__traceback__)]
        current = current.__cause__ or current.__context__
    try:
        state.mkdir(parents=True, exist_ok=True, mode=0o700)
        path = state / f"error-{dt.datetime.now():%Y%m%d-%H%M%S}-{os.getpid()}.log"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write("\n".join(lines) + "\n")
    except OSError:
        return "（記録ファイルを書けませんでした）"
    return str(path)


app = DisasterTyper(cls=GlobalOptionsAnywhere, no_args_is_help=True, add_completion=False,
                    help="防災・避難支援ツールキット：避難行動要支援者の個別避難計画（マイプラン）・図上訓練・地図・集計。"
                         "--db・--city・--env-file・--debug はコマンドの前後どちらにも書けます。")
import_app = typer.Typer(help="公式形式のファイルを取り込みます（問題があれば何も書き込みません）。", no_args_is_help=True)
app.add_typer(import_app, name="import")
console = Console(soft_wrap=True)
errors = Console(stderr=True, soft_wrap=True)

MAX_PROBLEMS_SHOWN = 50


@dataclass
class Store:
    engine: Engine
    sessions: sessionmaker[Session]
    chosen_city: str | None  # --city / DISASTER_CITY

    @cached_property
    def city_code(self) -> str:
        """The city the command works on (the chosen one, else the store's only city)."""
        from disaster.usecases.setup import choose_city

        return choose_city(self.engine, self.sessions, self.chosen_city)

    @cached_property
    def emergency(self) -> Emergency:
        """The 災害時モード in force in the city now (none in a store from before migration 0009)."""
        from disaster.usecases.disaster_mode import NO_EMERGENCY, active, has_modes

        if not has_modes(self.engine):
            return NO_EMERGENCY
        with self.sessions() as session:
            return active(session, self.city_code)

    @cached_property
    def principal(self) -> Principal:
        """The command line acts as the city's local administrator (under the 災害時モード in force)."""
        from disaster.access import Principal
        from disaster.usecases.disaster_mode import principal_in_mode

        return principal_in_mode(Principal.cli(self.city_code), self.emergency)


@app.callback()
def main(
    ctx: typer.Context,
    db: Annotated[str | None, typer.Option("--db", envvar="DISASTER_DB", help="データベース URL（既定: sqlite:///disaster.sqlite3）")] = None,
    city: Annotated[str | None, typer.Option("--city", envvar="DISASTER_CITY",
                                             help="市町村の団体コード（6 桁。データベースに 1 市町村だけなら省略可）")] = None,
    env_file: Annotated[Path | None, typer.Option("--env-file", help="設定ファイル（DISASTER_*=値 の行）。指定したときだけ読みます（カレントの .env は読みません）")] = None,
    debug: Annotated[bool, typer.Option("--debug", help="エラーのときに詳細（トレースバック）を表示する（DISASTER_DEBUG=1 と同じ）")] = False,
) -> None:
    if debug:
        os.environ[DEBUG_VARIABLE] = "1"
    if env_file is not None:
        from disaster.settings import ENV_FILE_VARIABLE, get_settings

        os.environ[ENV_FILE_VARIABLE] = str(env_file)  # also for the processes a command starts
        get_settings.cache_clear()
    ctx.obj = lambda: _store(db, city)


def _store(db: str | None, city: str | None) -> Store:
    """The store the command works on (settings read here, not at start-up: a bad setting is a
    one-line user error of the command that needs it)."""
    from disaster.db import session_factory
    from disaster.settings import get_settings

    settings = get_settings()
    engine = _engine(db or settings.db)
    return Store(engine, session_factory(engine), city or settings.city)


def _engine(url: str) -> Engine:
    """An engine for ``url`` that has connected once: a malformed URL, an unknown scheme, an
    unreachable server, a SQLite file in a missing folder or a file that is not a database is
    a one-line user error (the URL shown without its password)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from disaster.db import make_engine

    hint = "--db または DISASTER_DB を確かめてください（例: sqlite:///disaster.sqlite3、postgresql://利用者@ホスト/データベース）。"
    try:
        parsed = make_url(url)
        engine = make_engine(url)
    except (ArgumentError, ValueError, ImportError) as exc:  # NoSuchModuleError is an ArgumentError
        raise Rejected(f"データベース URL を使えません。{hint}") from exc
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database and parsed.database != ":memory:":
        file = Path(parsed.database)
        if not file.parent.is_dir():
            raise Rejected(f"データベース（{shown}）のフォルダ {file.parent} がありません。{hint}")
        if not file.exists():
            return engine  # created by the first write (`disaster init`), not by this check
    try:
        with engine.connect() as connection:
            connection.exec_driver_sql("SELECT 1")
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = "はデータベースのファイルではありません" if "not a database" in str(exc) else "に接続できません"
        raise Rejected(f"データベース（{shown}）{reason}。{hint}") from exc
    return engine


@contextmanager
def _user_errors() -> Iterator[None]:
    """Print user-facing errors (``errors.DisasterError``) in Japanese, one line, and exit 1
    (with ``--debug`` after their traceback). Anything else is a bug and is not dressed up as a
    user message (see ``DisasterTyper``)."""
    try:
        yield
    except ImportRejected as exc:
        _debug_traceback()
        for problem in exc.problems[:MAX_PROBLEMS_SHOWN]:
            errors.print(f"[red]✗[/red] {escape(str(problem))}", markup=True, highlight=False)
        hidden = len(exc.problems) - MAX_PROBLEMS_SHOWN
        if hidden > 0:
            errors.print(f"…ほか {hidden} 件（--skip-bad-rows --rejects FILE で全件を書き出せます）")
        errors.print(f"[bold red]{exc}[/bold red]")
        raise typer.Exit(1) from exc
    except DisasterError as exc:
        _debug_traceback()
        errors.print(f"[bold red]エラー:[/bold red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from exc
    except FileNotFoundError as exc:  # a path given on the command line
        _debug_traceback()
        errors.print(f"[bold red]エラー:[/bold red] ファイルが見つかりません: {escape(str(exc.filename))}", highlight=False)
        raise typer.Exit(1) from exc


def _debug_traceback() -> None:
    if debugging():
        errors.print(traceback.format_exc(), highlight=False, markup=False)


def _run(ctx: typer.Context, action: Callable[[Store], Any], migrates: bool = False, serves: bool = False) -> Any:
    """``action`` on the command's store, user errors printed; unless the command ``migrates``
    the schema itself, a store of another schema revision is refused first. The store is closed
    afterwards; then, unless the command ``serves`` on (the service, the job worker, whose exit
    still collects and closes what they hold), the process ends without the final cyclic
    collection (``gc_pause.no_final_collection``)."""
    from disaster.db import require_current_schema, wait_for_checkpoints

    with _user_errors():
        store = ctx.obj()
        try:
            if not migrates:
                require_current_schema(store.engine)
            return action(store)
        finally:
            wait_for_checkpoints()
            store.engine.dispose()
            if not serves:
                no_final_collection()


def _print_report(report: ImportReport) -> None:
    console.print(f"[green]✓[/green] {report.kind}: 新規 {report.created} 件、更新 {report.updated} 件（{', '.join(report.files)}）")
    if report.assessment_run is not None:
        console.print("  避難判定を更新しました（disaster assess で集計を表示）。")
    for notice in report.notices:
        console.print(f"[yellow]![/yellow] {escape(notice)}", highlight=False)
    if report.problems:
        console.print(f"[yellow]! {len(report.problems)} 件の問題がある行を飛ばしました[/yellow]"
                      + (f"（{report.rejects_file} に書き出しました）" if report.rejects_file else ""))


@app.command()
def init(
    ctx: typer.Context,
    name: Annotated[str | None, typer.Option(help="市町村名（省略時は市町村の設定ファイル、なければ import boundary の N03 から）")] = None,
) -> None:
    """データベースを作成・更新し、--city 団体コード の市町村を登録します（5 桁なら検査数字を補います）。"""

    from disaster.usecases.setup import init_city

    def action(store: Store) -> Any:
        code = store.chosen_city if store.chosen_city is not None else store.city_code  # no --city: the store's city
        return init_city(store.engine, store.sessions, code, name)

    result = _run(ctx, action, migrates=True)
    console.print(f"[green]✓[/green] データベースを準備しました。市町村: {result.name or '（名称未設定）'}（{result.code}）",
                  highlight=False)
    if not result.name:
        console.print("  市町村名は `disaster import boundary N03のファイル` で設定されます（または --name）。", highlight=False)
    elif result.profile_created:
        console.print(f"  市町村の設定ファイル {result.profile} を作りました（連絡先などを記入してください）。", highlight=False)


city_app = typer.Typer(help="登録した市町村（一覧・誤って登録した市町村の取り消し）。", no_args_is_help=True)
app.add_typer(city_app, name="city")


@city_app.command("list")
def city_list(ctx: typer.Context) -> None:
    """このデータベースに登録した市町村を表示します。"""
    from disaster.usecases.setup import list_cities

    for code, name in _run(ctx, lambda s: list_cities(s.engine, s.sessions)):
        console.print(f"{code}　{name or '（名称未設定）'}", highlight=False)


@city_app.command("remove")
def city_remove(ctx: typer.Context, code: Annotated[str, typer.Argument(help="取り消す市町村の団体コード")]) -> None:
    """誤って登録した市町村の登録を取り消します（データのある市町村は取り消せません）。"""
    from disaster.usecases.setup import remove_city

    _run(ctx, lambda s: remove_city(s.sessions, code))
    console.print(f"[green]✓[/green] 団体コード {code} の登録を取り消しました。", highlight=False)


Force = Annotated[bool, typer.Option("--force", help="同じ名前のファイルが出力先にあれば上書きする（既定: 上書きせずに中止）")]


@app.command()
def demo(
    ctx: typer.Context,
    bundle: Annotated[Path, typer.Option(help="デモデータのフォルダ（省略時は同梱のデモデータ）", show_default=False)] = DEMO_DATA_DIR,
    out: Annotated[Path, typer.Option(help="作成物（マイプラン等）の出力先")] = Path("out"),
    outputs: Annotated[bool, typer.Option(help="読み込み後にサンプルの作成物も作る")] = True,
    accounts: Annotated[bool, typer.Option(help="役割ごとのデモ用アカウントを作り、パスワードを表示する（デモデータだけのとき）")] = True,
) -> None:
    """同梱のデモデータ（架空の住民を含む）を読み込み（その市町村も登録します）、判定し、サンプルの作成物と
    役割ごとのデモ用アカウントを作ります。サービスは続けて disaster serve で起動します。"""
    from disaster.access import Principal
    from disaster.usecases.demo import demo_accounts, load_demo, sample_district
    from disaster.usecases.stats import store_stats

    def action(store: Store) -> None:
        with console.status("デモデータを読み込んでいます…") as status:
            loaded = load_demo(store.engine, store.sessions, bundle, lambda label: status.update(f"{label} を読み込み中…"))
        for report in loaded.reports:
            _print_report(report)
        _print_stats(store_stats(store.sessions, Principal.cli(loaded.city_code)))
        if outputs:
            _demo_outputs(store.sessions, Principal.cli(loaded.city_code), out, sample_district(bundle))
        if accounts:
            _print_demo_accounts(demo_accounts(store.sessions, loaded.city_code, sample_district(bundle)))

    _run(ctx, action, migrates=True)


def _print_demo_accounts(made: list[DemoAccount]) -> None:
    table = Table(title="デモ用アカウント（disaster serve の後、ブラウザで http://127.0.0.1:8000/ を開いてログイン）")
    for column in ("ログインID", "パスワード", "見られる範囲"):
        table.add_column(column)
    for account in made:
        table.add_row(account.login, account.password, account.scope)
    console.print(table)
    console.print("  パスワードは demo を実行するたびに新しくなります。", highlight=False)


def _demo_outputs(sessions: sessionmaker[Session], principal: Principal, out: Path, district: str) -> None:
    """The sample outputs, made afresh on every run (an earlier run's files are replaced)."""
    from disaster.access import Principal
    from disaster.usecases.plans import write_blank_form, write_district_plans  # optional extra "pdf"

    with Progress(console=console) as progress:
        task = progress.add_task(f"{district}校区のマイプラン", total=None)
        report = write_district_plans(sessions, principal, district, out / "plans" / district,
                                      progress=lambda done, total: progress.update(task, completed=done, total=total),
                                      force=True)
    city_code = principal.city_code
    write_blank_form(out / "plans" / "blank_form.pdf", city_code, force=True)
    console.print(f"[green]✓[/green] マイプラン {len(report.written)} 人分: {out / 'plans' / district}（一覧 {report.index}）")
    console.print(f"[green]✓[/green] 手書き用の様式: {out / 'plans' / 'blank_form.pdf'}")
    from disaster.usecases.maps import district_file, write_all_maps, write_district_map  # optional extra "maps"

    maps = write_all_maps(sessions, Principal.public(city_code), out / "maps", force=True)
    leader = write_district_map(sessions, Principal.leader(city_code, [district]), district,
                                out / "maps_leader" / district_file(district), force=True)
    console.print(f"[green]✓[/green] 公開用の地図 {len(maps.files)} ファイル: {out / 'maps' / 'index.html'}")
    console.print(f"[green]✓[/green] 校区リーダー用の地図（同意者のみ）: {leader}")
    from disaster.exercises.scenario import ExerciseHazard
    from disaster.usecases.exercises import export_report, new_pack
    from disaster.usecases.exercises import report as exercise_report

    pack = new_pack(sessions, principal, district, ExerciseHazard.FLOOD, out / "exercise" / district,
                    dt.datetime(2026, 7, 8, 18, 0), seed=1, basemap=_dig_basemap(), force=True)
    console.print(f"[green]✓[/green] 図上訓練の教材（{pack.scenario.title}）: {out / 'exercise' / district}")
    result = exercise_report(sessions, city_code, 2024)
    export_report(result, out / "exercise_report", force=True)
    console.print(f"[green]✓[/green] 図上訓練の集計（{result['year_label']} 参加者 {result['participants']:,} 人）: {out / 'exercise_report'}")


@app.command("build-demo")
def build_demo_command(
    shared: Annotated[Path, typer.Option(help="公開データのフォルダ（../shared/data）")] = PROJECT_ROOT.parent / "shared" / "data",
    out: Annotated[Path, typer.Option(help="出力フォルダ（省略時は同梱のデモデータのフォルダ）", show_default=False)] = DEMO_DATA_DIR,
    residents: Annotated[int | None, typer.Option(help="架空の住民数（省略時は data/demo/<団体コード>.toml の値）")] = None,
    seed: Annotated[int | None, typer.Option(help="乱数の種（省略時は data/demo/<団体コード>.toml の値）")] = None,
) -> None:
    """公開データからデモデータを作り直します（同じ種なら同じ結果）。"""
    from disaster.demodata.build import build_demo

    with _user_errors():
        manifest = build_demo(shared, out, residents, seed)
    console.print(f"[green]✓[/green] {out} に {len(manifest['files'])} ファイルを書き出しました。")


@app.command()
def assess(
    ctx: typer.Context,
    district: Annotated[str | None, typer.Option(help="校区名（省略時は全校区）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力")] = False,
    recompute: Annotated[bool, typer.Option(help="集計の前に判定をやり直す")] = True,
    road_graph: Annotated[Path | None, typer.Option(help="道路網 GraphML（OSMnx 形式）")] = None,
    night: Annotated[bool, typer.Option(help="夜間の歩行速度（×0.8）で計算")] = False,
) -> None:
    """全員の避難判定（立退き/屋内安全確保・避難先・時間・優先度・支援者）を行い、校区別に集計します。"""
    with cycle_collection_paused():
        from disaster.usecases.assess import run_assessment
        from disaster.usecases.assess import summary as assessment_summary

        def action(store: Store) -> dict[str, Any]:
            if recompute:
                with console.status("避難判定を計算しています…"):
                    run_assessment(store.sessions, store.city_code, road_graph=road_graph, night=night, full=True)
            return assessment_summary(store.sessions, store.city_code, district)

        result = _run(ctx, action)
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"避難判定（{result['computed_at'][:19]}）")
    for column in ("校区", "人数", "立退き", "上階", "区域外", "福祉必要", "福祉確保", "福祉不足", "支援者なし"):
        table.add_column(column, justify="right" if column != "校区" else "left")
    for row in [*result["districts"], result["totals"]]:
        decided = row["by_decision"]
        table.add_row(row["name"], str(row["residents"]), str(decided["leave"]), str(decided["stay_upstairs"]),
                      str(decided["stay"]), str(row["welfare_needed"]), str(row["welfare_placed"]),
                      str(row["welfare_unplaced"]), str(row["unsupported"]))
    console.print(table)


@app.command()
def plan(
    ctx: typer.Context,
    resident_no: Annotated[str | None, typer.Argument(help="名簿番号")] = None,
    out: Annotated[Path, typer.Option(help="出力 PDF")] = Path("plan.pdf"),
    large_print: Annotated[bool, typer.Option("--large-print", help="大きな文字（16pt）")] = False,
    blank: Annotated[bool, typer.Option("--blank", help="手書き用の空欄の様式")] = False,
    force: Force = False,
) -> None:
    """災害時マイプラン（個別避難計画）の PDF を 1 人分作ります。"""
    from disaster import auditlog
    from disaster.usecases.plans import PlanFile, write_blank_form, write_plan  # optional extra "pdf"

    if blank:
        pages = _run(ctx, lambda s: write_blank_form(out, s.city_code, large_print, force=force))
        console.print(f"[green]✓[/green] 空欄の様式を {out} に書き出しました（{pages} ページ）。")
        return
    if resident_no is None:
        errors.print("名簿番号を指定してください（空欄の様式は --blank）。")
        raise typer.Exit(2)
    def action(store: Store) -> PlanFile:
        auditlog.require_log(store.engine)
        result = write_plan(store.sessions, store.principal, resident_no, out, large_print, force=force)
        _audit_read(store, auditlog.Action.PLAN_PDF, [resident_no], "resident", {"file": str(out), "draft": result.draft})
        return result

    result = _run(ctx, action)
    console.print(f"[green]✓[/green] {out}（{result.pages} ページ、{result.size // 1024} KB）")
    if result.draft:
        console.print("[yellow]![/yellow] 計画作成の同意がないため、市職員用の「下書き」として作りました（本人・支援者には渡せません）。")


@app.command()
def plans(
    ctx: typer.Context,
    district: Annotated[str, typer.Option(help="校区名")],
    out: Annotated[Path, typer.Option(help="出力フォルダ")] = Path("plans"),
    large_print: Annotated[bool, typer.Option("--large-print", help="大きな文字（16pt）")] = False,
    archive: Annotated[bool, typer.Option("--zip", help="1 つの ZIP にもまとめる")] = False,
    workers: Annotated[int | None, typer.Option(help="並列数（既定: CPU 数）")] = None,
    drafts: Annotated[bool, typer.Option("--drafts", help="計画作成の同意がない人の下書き（市職員用・透かし入り）も作る")] = False,
    force: Force = False,
) -> None:
    """校区の全員のマイプランを並列で作ります（一覧 CSV つき。同意のない人は一覧に記録して作りません）。"""
    from disaster import auditlog
    from disaster.usecases.plans import PlanReport, write_district_plans  # optional extra "pdf"

    def action(store: Store) -> PlanReport:
        auditlog.require_log(store.engine)
        with Progress(console=console) as progress:
            task = progress.add_task(f"{district}校区のマイプラン", total=None)
            report = write_district_plans(
                store.sessions, store.principal, district, out, large_print, archive, workers,
                lambda done, total: progress.update(task, completed=done, total=total), include_drafts=drafts, force=force)
        _audit_read(store, auditlog.Action.DISTRICT_PLANS, [number for number, *_ in report.written], "district",
                    {"district": district, "out": str(out), "drafts": len(report.drafts)})
        return report

    report = _run(ctx, action)
    console.print(f"[green]✓[/green] {len(report.written)} 人分を {out} に書き出しました（一覧: {report.index}）")
    if report.drafts:
        console.print(f"  うち下書き（同意なし・市職員用）{len(report.drafts)} 人分")
    if report.skipped:
        console.print(f"  計画作成の同意がない {len(report.skipped)} 人は作っていません（--drafts で市職員用の下書き）")
    if report.archive:
        console.print(f"  ZIP: {report.archive}")
    for number, message in report.failed:
        errors.print(f"[red]✗[/red] 名簿番号 {number}: {message}")
    if report.failed:
        raise typer.Exit(1)


exercise_app = typer.Typer(help="図上訓練：シナリオ・教材の作成、実施記録、参加者数の集計。", no_args_is_help=True)
app.add_typer(exercise_app, name="exercise")


@exercise_app.command("new")
def exercise_new(
    ctx: typer.Context,
    district: Annotated[str, typer.Option(help="校区名")],
    hazard: Annotated[str, typer.Option(help="flood（洪水）/ inland（内水）/ landslide（土砂災害）/ earthquake（地震）")] = "flood",
    seed: Annotated[int, typer.Option(help="乱数の種（同じ種なら同じシナリオ）")] = 1,
    out: Annotated[Path, typer.Option(help="出力フォルダ")] = Path("exercise"),
    start: Annotated[str, typer.Option(help="開始日時（例: 2026-07-08T18:00）")] = "2026-07-08T18:00",
    duration: Annotated[int, typer.Option(help="訓練の時間（時間）")] = 2,
    difficulty: Annotated[int, typer.Option(min=1, max=3, help="難易度 1〜3")] = 2,
    closed: Annotated[bool, typer.Option("--closed", help="非公開の訓練：同意を得た名簿の氏名を使う")] = False,
    monochrome: Annotated[bool, typer.Option("--monochrome", help="DIG 基図を白黒で")] = False,
    size: Annotated[str, typer.Option(help="DIG 基図の大きさ（A1 / A0）")] = "A1",
    force: Force = False,
) -> None:
    """校区のデータから図上訓練の教材一式を作ります（手引き・カード・ワークシート・地図）。"""
    from disaster.exercises.scenario import ExerciseHazard
    from disaster.usecases.exercises import new_pack

    try:
        chosen = ExerciseHazard(hazard)
        begins = dt.datetime.fromisoformat(start)
    except ValueError as exc:
        errors.print(f"エラー: {exc}")
        raise typer.Exit(2) from exc
    if size not in ("A1", "A0"):
        errors.print("--size は A1 または A0 です。")
        raise typer.Exit(2)
    pack = _run(ctx, lambda s: new_pack(s.sessions, s.principal, district, chosen, out, begins, duration, difficulty,
                                        seed, closed, monochrome, size, basemap=_dig_basemap(), force=force))
    console.print(f"[green]✓[/green] {pack.scenario.title}：カード {len(pack.scenario.injects)} 枚、{len(pack.files)} ファイルを {out} に書き出しました。")


DIG_MAX_TILES = 200  # an A1 sheet needs more tiles than a plan map for a readable zoom


def _dig_basemap() -> Callable[..., Any]:
    """Tile basemap for the DIG sheet (falls back to the plain drawing when tiles are unavailable)."""
    from maps.tiles import basemap

    return functools.partial(basemap, max_tiles=DIG_MAX_TILES)


@exercise_app.command("record")
def exercise_record(
    ctx: typer.Context,
    district: Annotated[str, typer.Option(help="校区名")],
    date: Annotated[str, typer.Option(help="実施日（例: 2026-06-14 / R8.6.14）")],
    hazard: Annotated[str, typer.Option(help="flood / inland / landslide / earthquake")] = "flood",
    facilitator: Annotated[str | None, typer.Option(help="進行役")] = None,
    participants: Annotated[list[str], typer.Option("--participants", help="役割=人数（例: 住民=18）。役割: 自治会 民生委員 消防団 住民 福祉専門職 学生 行政 その他")] = [],  # noqa: B006
    rating: Annotated[int | None, typer.Option(min=1, max=5, help="総合評価 1〜5")] = None,
    strengths: Annotated[str | None, typer.Option(help="よかった点")] = None,
    improvements: Annotated[str | None, typer.Option(help="改善点")] = None,
    finding: Annotated[list[str], typer.Option("--finding", help="課題|対応|担当|期限|名簿番号（後ろは省略可）")] = [],  # noqa: B006
) -> None:
    """図上訓練の実施記録（参加者数・感想・課題）を登録します。同じ訓練を再登録すると置き換えます。"""
    from disaster.exercises.scenario import ExerciseHazard
    from disaster.usecases.exercises import ROLES, SessionInput, record_session

    with _user_errors():
        counts: dict[str, int] = {}
        for item in participants:
            role, _, number = item.partition("=")
            if role not in ROLES or not number.isdigit():
                raise Rejected(f"「{item}」は 役割=人数 の形で、役割は {'・'.join(ROLES)} のいずれかです。")
            counts[role] = int(number)
        items = []
        for text in finding:
            parts = (text.split("|") + [""] * 5)[:5]
            items.append({"issue": parts[0], "action": parts[1] or None, "owner": parts[2] or None,
                          "due": parse_date(parts[3]) if parts[3] else None, "resident_no": parts[4] or None})
        if hazard not in {h.value for h in ExerciseHazard}:
            raise Rejected(f"--hazard は {' / '.join(h.value for h in ExerciseHazard)} のいずれかです。")
        data = SessionInput(parse_date(date), district, ExerciseHazard(hazard), facilitator, counts,
                            (rating, None, None), strengths, improvements, items)
    new = _run(ctx, lambda s: record_session(s.sessions, s.principal, data).new)
    console.print(f"[green]✓[/green] {'登録' if new else '更新'}しました：{data.held_on} {district}（{sum(counts.values())}人）")


@exercise_app.command("import")
def exercise_import(ctx: typer.Context, path: Path) -> None:
    """過去の図上訓練の記録を表（CSV/Excel）から取り込みます（同じ訓練は二重に数えません）。"""
    from disaster.usecases.exercises import import_sessions

    created, updated = _run(ctx, lambda s: import_sessions(s.sessions, s.city_code, path))
    console.print(f"[green]✓[/green] 新規 {created} 件、更新 {updated} 件")


@exercise_app.command("report")
def exercise_report(
    ctx: typer.Context,
    year: Annotated[str | None, typer.Option(help="年度（例: R8 / 令和8年度 / 2026）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力")] = False,
    idle_years: Annotated[int, typer.Option(help="この年数、実施のない校区を表示")] = 3,
    out: Annotated[Path | None, typer.Option(help="CSV・Excel・グラフ（SVG）の出力フォルダ")] = None,
    force: Force = False,
) -> None:
    """図上訓練の参加者数（年度別・校区別・圏域別）と、市町村の設定ファイルにある目標への進み具合。"""
    from disaster.exercises.tracking import parse_fiscal
    from disaster.usecases.exercises import export_report, report

    with _user_errors():
        chosen = parse_fiscal(year) if year else None
    result = _run(ctx, lambda s: report(s.sessions, s.city_code, chosen, idle_years))
    if out is not None:
        with _user_errors():
            written = export_report(result, out, force)
        for path in written:
            console.print(f"  {path}")
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        return
    goal = (f"　{result['target_label']}の目標 {result['target']:,} 人への進み具合 {result['progress_percent']}%"
            if result["target"] is not None else "")
    console.print(f"{result['year_label']}：参加者 {result['participants']:,} 人（{result['sessions']} 回）{goal}")
    for row in result["by_year"]:
        console.print(f"  {row['label']}: {row['participants']:,} 人")
    console.print(f"直近{idle_years}年度に実施のない校区：{'、'.join(result['districts_without_session']) or 'なし'}")


ViewOption = Annotated[str, typer.Option("--view", help="public（公開用）/ leader（校区リーダー用）/ city（市職員用）")]
VIEWS = ("public", "leader", "city")


def _view(value: str) -> str:
    if value not in VIEWS:
        errors.print(f"--view は {', '.join(VIEWS)} のいずれかです。")
        raise typer.Exit(2)
    return value


def _view_principal(store: Store, view: str, district: str | None) -> Principal:
    """The principal a map is drawn for: ``public``, the city administrator (``city``), or a
    校区 leader of ``district`` (of every 校区 when None: each map shows its own 校区)."""
    from disaster import repo
    from disaster.access import Principal
    from disaster.usecases.disaster_mode import principal_in_mode

    if view == "public":
        return Principal.public(store.city_code)
    if view == "city":
        return store.principal
    if district is None:
        with store.sessions() as session:
            leader = Principal.leader(store.city_code, repo.district_ids(session, store.city_code))
    else:
        leader = Principal.leader(store.city_code, [district])
    return principal_in_mode(leader, store.emergency)


@app.command("map")
def map_command(
    ctx: typer.Context,
    district: Annotated[str, typer.Option(help="校区名")],
    view: ViewOption = "public",
    out: Annotated[Path, typer.Option(help="出力 HTML")] = Path("map.html"),
    force: Force = False,
) -> None:
    """校区の地図（HTML）を作ります。表示する情報は --view で決まります（既定は公開用）。"""
    from disaster import auditlog
    from disaster.access import view_label
    from disaster.usecases.maps import write_district_map  # optional extra "maps"

    chosen = _view(view)

    def action(store: Store) -> tuple[Path, str]:
        principal = _view_principal(store, chosen, district)
        if chosen != "public":
            auditlog.require_log(store.engine)
        write_district_map(store.sessions, principal, district, out, force)
        if chosen != "public":
            _audit_read(store, auditlog.Action.MAP, _map_residents(store, principal, district), "district",
                        {"district": district, "view": chosen, "file": str(out)})
        return out, view_label(principal, district)

    path, label = _run(ctx, action)
    console.print(f"[green]✓[/green] {path}（{label}。assets フォルダと一緒に使ってください）")


@app.command("maps")
def maps_command(
    ctx: typer.Context,
    view: ViewOption = "public",
    out: Annotated[Path, typer.Option(help="出力フォルダ")] = Path("maps"),
    force: Force = False,
) -> None:
    """全校区の地図と市全体の地図、一覧ページを作ります。"""
    from disaster import auditlog
    from disaster.usecases.maps import write_all_maps  # optional extra "maps"

    chosen = _view(view)
    if chosen == "leader":
        console.print("校区リーダー用: 各校区の地図には、その校区の同意者だけを表示します。")

    def action(store: Store) -> Any:
        principal = _view_principal(store, chosen, None)
        if chosen != "public":
            auditlog.require_log(store.engine)
        report = write_all_maps(store.sessions, principal, out, force)
        if chosen == "leader" and store.emergency.on:
            scope = "全校区" if store.emergency.all else "、".join(sorted(store.emergency.districts))
            console.print(f"[bold red]災害時モード中[/bold red]（{scope}）: その校区の地図には同意のない人も表示します。")
        if chosen != "public":
            _audit_read(store, auditlog.Action.MAP, _map_residents(store, principal, None), "city",
                        {"view": chosen, "out": str(out)})
        return report

    report = _run(ctx, action)
    console.print(f"[green]✓[/green] {len(report.files)} ファイルを {out} に書き出しました（{out / 'index.html'}）")


def _map_residents(store: Store, principal: Principal, district: str | None) -> list[str]:
    """The 名簿番号 that the maps drawn for ``principal`` show (one 校区, or every 校区 map)."""
    from sqlalchemy import select

    from disaster.access import resident_filter
    from disaster.models import Resident

    with store.sessions() as session:
        return list(session.scalars(select(Resident.resident_no).where(resident_filter(principal, district))
                                    .order_by(Resident.resident_no)))


def _audit_read(store: Store, action: auditlog.Action, residents: list[str], target_kind: str,
                details: dict[str, Any]) -> None:
    """Record a read of personal data by the CLI's city administrator (marked with the
    災害時モード in force, if any)."""
    from disaster import auditlog

    with store.sessions() as session, session.begin():
        auditlog.record(session, store.principal, action, residents=residents,
                        target_kind=target_kind, details={**details, **store.emergency.audit_details()})


# --- basemap tiles (maps/tiles.py) ---

tiles_app = typer.Typer(help="背景地図タイル（既定: 地理院タイル 淡色地図）をオフライン用にキャッシュします。", no_args_is_help=True)
app.add_typer(tiles_app, name="tiles")


@tiles_app.command("fetch")
def tiles_fetch(
    ctx: typer.Context,
    district: Annotated[str, typer.Option(help="校区名")],
    zoom: Annotated[str | None, typer.Option(help="ズーム（例: 15 または 12-16。既定は設定の範囲）")] = None,
    margin: Annotated[float, typer.Option(help="校区の外側に含める幅（m）")] = 1500.0,
) -> None:
    """校区（と周囲）のタイルを取得してキャッシュし、マイプランの地図をオフラインでも描けるようにします。"""
    from disaster.usecases.tiles import fetch_district_tiles

    def action(store: Store) -> Any:
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task(f"{district}校区のタイル", total=None)
            return fetch_district_tiles(store.sessions, store.city_code, district, zoom, margin,
                                        progress=lambda done, total: progress.update(task, completed=done, total=total))

    result = _run(ctx, action)
    r = result.report
    zooms = f"{r.zooms[0]}–{r.zooms[-1]}" if len(r.zooms) > 1 else str(r.zooms[0])
    console.print(f"{result.district}: ズーム {zooms} のタイル {r.total} 枚"
                  f"（新たに取得 {r.fetched}、キャッシュ済み {r.cached}、データなし {r.empty}、取得失敗 {r.failed}）")
    console.print(f"保存先: {r.cache_dir}　{result.attribution}", highlight=False)
    if r.failed:
        errors.print(f"[bold red]エラー:[/bold red] {r.failed} 枚を取得できませんでした（ネットワークを確認して、もう一度実行してください）。")
        raise typer.Exit(1)
    console.print("[green]✓[/green] オフラインでもこの校区の地図に背景地図を描けます。")


@app.command()
def stats(ctx: typer.Context, as_json: Annotated[bool, typer.Option("--json", help="JSON で出力")] = False) -> None:
    """市町村全体の件数（校区・名簿・支援者・避難所など）を表示します。校区別の集計は disaster assess。"""
    from disaster.usecases.stats import store_stats

    result = _run(ctx, lambda s: store_stats(s.sessions, s.principal))
    if as_json:
        sys.stdout.write(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
    else:
        _print_stats(result)


COUNT_LABELS = {
    "districts": "校区", "consultation_centres": "相談窓口", "shelters": "避難所・避難場所（施設）",
    "hazard_zones": "災害想定区域（ポリゴン）", "residents": "避難行動要支援者", "supporters": "避難支援等実施者",
    "emergency_contacts": "緊急連絡先", "care_professionals": "関係専門職", "datasets": "取り込んだデータセット",
    "resident_supporter_links": "支援の組み合わせ", "emergency_sites": "　うち指定緊急避難場所",
    "designated_shelters": "　うち指定避難所", "welfare_shelters": "　うち福祉避難所",
    "welfare_agreements": "福祉避難所の受入合意",
}


def _print_stats(result: dict[str, Any]) -> None:
    table = Table(title=f"{result['city']['name']}（{result['city']['code']}）")
    table.add_column("項目")
    table.add_column("件数", justify="right")
    for key, value in result["counts"].items():
        table.add_row(COUNT_LABELS.get(key, key), str(value))
        if key == "shelters":  # the kinds right under the facilities they break down
            for kind, n in result["shelter_kinds"].items():
                table.add_row(COUNT_LABELS.get(kind, kind), str(n))
    console.print(table)
    if any(d["demo"] for d in result["datasets"]):
        console.print("[yellow]※ デモデータ（架空）を含みます。[/yellow]")


# --- audits: plan safety (`audit plans`) and the audit log of personal-data reads and changes (`audit verify`, `audit log`) ---
audit_app = typer.Typer(help="点検と記録：計画の安全点検（plans）と、個人情報の閲覧・変更の監査ログ（verify・log）。", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
AUDIT_SHOWN = 40


@audit_app.command("plans")
def audit_plans_command(
    ctx: typer.Context,
    district: Annotated[str | None, typer.Option(help="校区名（省略時は市全体）")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力")] = False,
) -> None:
    """全員の判定結果と計画を点検し、規則ごとの件数と、一人ひとりの問題・対応を示します（ツールの不具合があれば終了コード 1）。"""
    from disaster.audit import Kind
    from disaster.usecases.audit import audit_plans

    report = _run(ctx, lambda s: audit_plans(s.sessions, s.principal, district))
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False, indent=2) + "\n")
    else:
        scope = f"{district}校区" if district else "市全体"
        table = Table(title=f"計画の安全点検（{scope}・{report.residents}人・判定 {report.computed_at[:19]}）")
        for column in ("種類", "規則", "内容", "件数", "人数"):
            table.add_column(column, justify="right" if column in ("件数", "人数") else "left", overflow="fold")
        for row in report.counts():
            toolkit = row["kind"] == Kind.TOOLKIT.value
            kind = "[red]不具合[/red]" if toolkit else "[yellow]要対応[/yellow]"
            table.add_row(kind, row["rule"], row["label"], str(row["count"]), str(row["residents"]))
        console.print(table)
        shown = [v for v in report.violations if v.kind is Kind.TOOLKIT][:AUDIT_SHOWN]
        for v in shown:
            console.print(f"[red]✗[/red] {v.resident_no}（{v.district}）{v.rule.value}: {v.message}", highlight=False)
        if report.toolkit_count > len(shown):
            console.print(f"…ほか {report.toolkit_count - len(shown)} 件（--json で全件）")
        console.print(f"不具合（ツールの誤り）{report.toolkit_count} 件、要対応（データの不足・校区リーダーのやること）"
                      f"{report.data_count} 件。")
        if report.toolkit_count:
            console.print("[bold red]ツールの不具合がある計画は配らないでください。[/bold red]")
    if report.toolkit_count:
        raise typer.Exit(1)

Skip = Annotated[bool, typer.Option("--skip-bad-rows", help="問題のある行を飛ばして残りを取り込む")]
Rejects = Annotated[Path | None, typer.Option(help="飛ばした行の書き出し先 CSV")]
Crs = Annotated[int | None, typer.Option("--crs", help="CRS のないファイルの EPSG コード（例: 6668）")]
Mapping = Annotated[Path | None, typer.Option(help="列の対応表（TOML）")]
Sheet = Annotated[str | None, typer.Option(help="Excel のシート名")]
HeaderRow = Annotated[int | None, typer.Option("--header-row", help="見出しの行番号（既定: 自動で探す）")]


@import_app.command("shelters")
def import_shelters(ctx: typer.Context, paths: list[Path], skip_bad_rows: Skip = False,
                    rejects: Rejects = None, crs: Crs = None) -> None:
    """国土地理院の指定緊急避難場所・指定避難所（GeoJSON/CSV）。同じ施設は 1 件にまとめます。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_shelters(s.sessions, paths, s.city_code, skip_bad_rows, rejects, crs)))


@import_app.command("boundary")
def import_boundary(ctx: typer.Context, path: Path, crs: Crs = None) -> None:
    """国土数値情報 N03（行政区域）から市の区域を設定します。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_boundary(s.sessions, path, s.city_code, crs)))


@import_app.command("districts")
def import_districts(
    ctx: typer.Context,
    path: Path,
    table: Annotated[Path | None, typer.Option(help="校区表 CSV（圏域・相談窓口）")] = None,
    name_column: Annotated[str | None, typer.Option(help="校区名の列")] = None,
    crs: Crs = None,
) -> None:
    """校区の区域（国土数値情報 A27 または校区名の列を持つ面データ）。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_districts(s.sessions, path, s.city_code, table, name_column, crs)))


@import_app.command("hazards")
def import_hazards(
    ctx: typer.Context,
    paths: list[Path],
    layer: Annotated[HazardLayer | None, typer.Option(help="レイヤ（内水は inland_flood を指定）")] = None,
    river: Annotated[str | None, typer.Option(help="河川名・区域名")] = None,
    source: Annotated[str | None, typer.Option(help="データセット名（既定: ファイル名）")] = None,
    crs: Crs = None,
) -> None:
    """国土数値情報 A31a/A31（洪水浸水想定区域）・A33（土砂災害警戒区域）。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_hazards(s.sessions, paths, layer, river, source, crs, city_code=s.city_code)))


@import_app.command("residents")
def import_residents(
    ctx: typer.Context, path: Path, mapping: Mapping = None, sheet: Sheet = None, skip_bad_rows: Skip = False,
    rejects: Rejects = None, header_row: HeaderRow = None,
    replace: Annotated[bool, typer.Option("--replace", help="登録済みの名簿番号を別の方（氏名も生年月日も異なる方）に付け替えることを認める（前の方の計画・記録は削除されます）")] = False,
) -> None:
    """避難行動要支援者名簿（CSV/Excel、UTF-8/Shift_JIS、和暦可）。緯度・経度のない行は住所から位置を求めます。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_residents(
        s.sessions, path, s.city_code, mapping, sheet, skip_bad_rows, rejects, header_row=header_row, replace=replace)))


@import_app.command("supporters")
def import_supporters(ctx: typer.Context, path: Path, mapping: Mapping = None, sheet: Sheet = None,
                      skip_bad_rows: Skip = False, rejects: Rejects = None, header_row: HeaderRow = None) -> None:
    """避難支援等実施者（支援対象者の名簿番号つき）。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_supporters(
        s.sessions, path, s.city_code, mapping, sheet, skip_bad_rows, rejects, header_row=header_row)))


@import_app.command("address-points")
def import_address_points(ctx: typer.Context, paths: list[Path], skip_bad_rows: Skip = False,
                          rejects: Rejects = None) -> None:
    """国土交通省 位置参照情報（街区レベル・大字・町丁目レベルの CSV または ZIP）。名簿の住所から位置を求めるのに使います。"""
    from disaster.usecases import imports

    _print_report(_run(ctx, lambda s: imports.import_address_points(s.sessions, paths, s.city_code, skip_bad_rows, rejects)))


# --- accounts (disaster/accounts.py) ---

user_app = typer.Typer(help="サービスの利用者アカウント：登録・一覧・停止・パスワードの設定（操作は監査ログに残ります）。",
                       no_args_is_help=True)
app.add_typer(user_app, name="user")
PasswordStdin = Annotated[bool, typer.Option("--password-stdin", help="パスワードを標準入力の 1 行から読む（省略時は画面に出さずに尋ねます）")]


def _read_password(from_stdin: bool) -> str:
    """The new password, from one line of stdin or a hidden prompt; never echoed or logged."""
    if from_stdin:
        return sys.stdin.readline().removesuffix("\n").removesuffix("\r")
    return str(typer.prompt("パスワード", hide_input=True, confirmation_prompt="もう一度（確認）"))


def _scope_label(user: User) -> str:
    if user.districts:
        return "、".join(user.districts)
    return user.professional_name or ""


@user_app.command("add")
def user_add(
    ctx: typer.Context,
    login: Annotated[str, typer.Argument(help="ログインID")],
    role: Annotated[str, typer.Option(help="city_admin（市の管理者）/ city_staff（市職員）/ leader（校区リーダー・民生委員）"
                                           " / trainer（図上訓練の進行役）/ care_professional（福祉専門職）")],
    district: Annotated[list[str], typer.Option("--district", help="担当の校区（leader は 1 つ以上。繰り返し指定できます）")] = [],  # noqa: B006
    professional_name: Annotated[str | None, typer.Option(help="福祉専門職の氏名（名簿の関係専門職欄のとおり）")] = None,
    password_stdin: PasswordStdin = False,
) -> None:
    """利用者を登録します（パスワードは Argon2id のハッシュだけを保存します）。"""
    from disaster.access import ROLE_LABELS, Role
    from disaster.usecases.users import add_user

    password = _read_password(password_stdin)
    user = _run(ctx, lambda s: add_user(s.sessions, s.principal, login, role, password, district,
                                        professional_name))
    scope = _scope_label(user)
    console.print(f"[green]✓[/green] {user.login}（{ROLE_LABELS[Role(user.role)]}{'：' + scope if scope else ''}）を登録しました。",
                  highlight=False)


@user_app.command("list")
def user_list(ctx: typer.Context) -> None:
    """市町村の利用者の一覧（役割・担当・状態）。"""
    from disaster.access import ROLE_LABELS, Role
    from disaster.usecases.users import list_users

    users = _run(ctx, lambda s: list_users(s.sessions, s.principal))
    now = dt.datetime.now(dt.UTC)
    table = Table(title=f"利用者（{len(users)} 人）")
    for column in ("ログインID", "役割", "担当", "状態", "登録", "パスワード設定"):
        table.add_column(column)
    for user in users:
        if user.disabled:
            state = "[red]停止[/red]"
        elif user.locked_until is not None and user.locked_until > now:
            state = f"[yellow]ロック中（{user.locked_until.astimezone():%m/%d %H:%M} まで）[/yellow]"
        else:
            state = "有効"
        table.add_row(user.login, ROLE_LABELS[Role(user.role)], _scope_label(user), state,
                      f"{user.created_at.astimezone():%Y-%m-%d %H:%M}", f"{user.password_changed_at.astimezone():%Y-%m-%d %H:%M}")
    console.print(table)


@user_app.command("disable")
def user_disable(ctx: typer.Context, login: Annotated[str, typer.Argument(help="ログインID")]) -> None:
    """利用者を停止します（ログインできなくなります。記録は残ります）。"""
    from disaster.usecases.users import disable_user

    _run(ctx, lambda s: disable_user(s.sessions, s.principal, login))
    console.print(f"[green]✓[/green] {login} を停止しました。", highlight=False)


@user_app.command("set-password")
def user_set_password(ctx: typer.Context, login: Annotated[str, typer.Argument(help="ログインID")],
                      password_stdin: PasswordStdin = False) -> None:
    """パスワードを設定し直します（ロック中ならロックも解除します）。"""
    from disaster.usecases.users import set_password

    password = _read_password(password_stdin)
    _run(ctx, lambda s: set_password(s.sessions, s.principal, login, password))
    console.print(f"[green]✓[/green] {login} のパスワードを設定しました。", highlight=False)


# --- the audit log (disaster/auditlog.py), in the `audit` group beside `audit plans` ---


@audit_app.command("verify")
def audit_verify_command(ctx: typer.Context) -> None:
    """監査ログのつながり（ハッシュの連鎖）を確かめます。改ざん・削除があれば、最初の記録を示して終了コード 1。"""
    from disaster import auditlog

    def action(store: Store) -> auditlog.VerifyResult:
        auditlog.require_log(store.engine)
        with store.sessions() as session:
            return auditlog.verify(session)

    result = _run(ctx, action)
    if not result.ok:
        errors.print(f"[bold red]✗ 監査ログの記録 #{result.first_broken_id}:[/bold red] {result.reason}"
                     f"（{result.checked} 件目で検出）", highlight=False)
        raise typer.Exit(1)
    head = f"最新の記録のハッシュ {result.head_hash}" if result.head_hash else "記録はまだありません"
    console.print(f"[green]✓[/green] 監査ログ {result.checked} 件のつながりは保たれています（{head}）。", highlight=False)


@audit_app.command("log")
def audit_log_command(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="JSON で出力（全項目）")] = False,
    since: Annotated[str | None, typer.Option(help="この日時以降（例: 2026-06-01 / 2026-06-01T09:00、時差なしはこの機械の時刻）")] = None,
) -> None:
    """市町村の監査ログ（誰が・いつ・何を・どの方の情報を、許可・拒否、どこから）。この閲覧も記録されます。"""
    from disaster import auditlog
    from disaster.access import Action, require

    try:
        start = dt.datetime.fromisoformat(since).astimezone() if since else None
    except ValueError:
        errors.print(f"--since「{since}」は日付か日時（例: 2026-06-01 / 2026-06-01T09:00）で指定してください。")
        raise typer.Exit(2) from None

    def action(store: Store) -> list[dict[str, Any]]:
        auditlog.require_log(store.engine)
        require(store.principal, Action.READ_AUDIT)  # the CLI's city administrator may
        with store.sessions() as session, session.begin():
            rows = [auditlog.as_dict(e) for e in auditlog.entries(session, store.city_code, start)]
            auditlog.record(session, store.principal, auditlog.Action.AUDIT_READ, target_kind="audit_log",
                            details={"since": start.isoformat() if start else None, "entries": len(rows)})
        return rows

    rows = _run(ctx, action)
    if as_json:
        sys.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"監査ログ（{len(rows)} 件）")
    for column in ("#", "日時", "利用者", "役割", "操作", "対象", "名簿番号", "許可", "場所", "詳細"):
        table.add_column(column, overflow="fold")
    for row in rows:
        table.add_row(str(row["id"]), f"{dt.datetime.fromisoformat(row['at']).astimezone():%Y-%m-%d %H:%M:%S}",
                      row["actor"], row["role"], row["action"], row["target_kind"] or "", "、".join(row["resident_ids"]),
                      "許可" if row["allowed"] else "[red]拒否[/red]", row["origin"],
                      json.dumps(row["details"], ensure_ascii=False) if row["details"] else "")
    console.print(table)


# --- 災害時モード (disaster/usecases/disaster_mode.py) ---

mode_app = typer.Typer(help="災害時モード（災害対策基本法 49条の11③・49条の15③）：宣言・終了・一覧。"
                            "実施中は、対象校区のリーダー・民生委員が同意のない人の名簿と計画も見られます（閲覧は監査ログに残ります）。",
                       no_args_is_help=True)
app.add_typer(mode_app, name="mode")


def _parse_until(value: str) -> dt.datetime:
    """``--until``: an ISO date-time; without an offset it is this machine's local time."""
    try:
        return dt.datetime.fromisoformat(value).astimezone()
    except ValueError:
        errors.print(f"--until「{value}」は日時（例: 2026-06-01T18:00 / 2026-06-01 18:00、時差なしはこの機械の時刻）で指定してください。",
                     highlight=False)
        raise typer.Exit(2) from None


def _mode_scope(districts: list[str]) -> str:
    return "、".join(districts) if districts else "全校区"


@mode_app.command("declare")
def mode_declare(
    ctx: typer.Context,
    reason: Annotated[str, typer.Option("--reason", help="理由（必須。例: 〇〇川の氾濫のおそれ、避難指示の発令）")],
    until: Annotated[str, typer.Option("--until", help="終了日時（例: 2026-06-01T18:00。最長 7 日先まで。時差なしはこの機械の時刻）")],
    district: Annotated[list[str], typer.Option("--district", help="対象の校区（繰り返し指定できます。省略すると全校区）")] = [],  # noqa: B006
) -> None:
    """災害時モードを宣言します（市の管理者のみ）。終了日時になると自動で終わります。続けるときは、もう一度宣言してください。"""
    from disaster import auditlog
    from disaster.usecases.disaster_mode import declare, require_modes

    ends_at = _parse_until(until)

    def action(store: Store) -> DisasterMode:
        auditlog.require_log(store.engine)
        require_modes(store.engine)
        return declare(store.sessions, store.principal, reason, district, ends_at)

    mode = _run(ctx, action)
    console.print(f"[bold red]災害時モード #{mode.id} を宣言しました[/bold red]（{_mode_scope(mode.districts)}、"
                  f"{mode.ends_at.astimezone():%Y-%m-%d %H:%M} まで）。", highlight=False)
    console.print("  対象校区のリーダー・民生委員は、同意のない人の名簿と計画も見られます。閲覧はすべて監査ログに残ります。")


@mode_app.command("end")
def mode_end(ctx: typer.Context, mode_id: Annotated[int, typer.Argument(metavar="ID", help="災害時モードの番号（mode list で表示）")]) -> None:
    """実施中の災害時モードを終了日時より前に終えます（市の管理者のみ）。"""
    from disaster import auditlog
    from disaster.usecases.disaster_mode import end, require_modes

    def action(store: Store) -> DisasterMode:
        auditlog.require_log(store.engine)
        require_modes(store.engine)
        return end(store.sessions, store.principal, mode_id)

    mode = _run(ctx, action)
    console.print(f"[green]✓[/green] 災害時モード #{mode.id}（{_mode_scope(mode.districts)}）を終了しました。", highlight=False)


@mode_app.command("list")
def mode_list(ctx: typer.Context,
              as_json: Annotated[bool, typer.Option("--json", help="JSON で出力（全項目）")] = False) -> None:
    """市町村の災害時モードの一覧（新しい順）：状態・校区・理由・宣言者・期間・その間の閲覧の記録件数。"""
    from disaster.usecases.disaster_mode import ModeListing, list_modes, require_modes

    def action(store: Store) -> list[ModeListing]:
        require_modes(store.engine)
        return list_modes(store.sessions, store.city_code)

    listings = _run(ctx, action)
    if as_json:
        sys.stdout.write(json.dumps([item.as_dict() for item in listings], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table(title=f"災害時モード（{len(listings)} 件）")
    for column in ("#", "状態", "校区", "理由", "宣言", "開始", "終了日時", "早期終了", "閲覧の記録"):
        table.add_column(column, overflow="fold")
    for item in listings:
        m = item.mode
        status = f"[bold red]{item.status}[/bold red]" if item.on else item.status
        early = f"{m.ended_at.astimezone():%Y-%m-%d %H:%M}（{m.ended_by}）" if m.ended_at else ""
        table.add_row(str(m.id), status, _mode_scope(m.districts), m.reason, m.declared_by,
                      f"{m.starts_at.astimezone():%Y-%m-%d %H:%M}", f"{m.ends_at.astimezone():%Y-%m-%d %H:%M}", early,
                      f"{item.reads} 件")
    console.print(table)


# --- the web service (disaster/web) ---


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(help="待ち受けるアドレス（外から使うときは DISASTER_ALLOWED_HOSTS も設定）")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="ポート番号")] = 8000,
    workers: Annotated[int, typer.Option(min=1, help="サーバーのプロセス数")] = 1,
) -> None:
    """サービス（JSON API: /api/v1、仕様: /api/v1/openapi.json）を起動します。Ctrl-C で止まります。"""
    import uvicorn

    from disaster.settings import get_settings
    from disaster.web import create_app

    def action(store: Store) -> Any:
        os.environ["DISASTER_DB"] = store.engine.url.render_as_string(hide_password=False)  # for every worker
        get_settings.cache_clear()
        return create_app()  # refuses a store that is not ready, or the default secret outside the demo

    service = _run(ctx, action, serves=True)
    console.print(f"[green]✓[/green] http://{host}:{port}/ で待ち受けます（画面: / 、API: /api/v1/ 。Ctrl-C で終了）。",
                  highlight=False)
    if workers == 1:
        uvicorn.run(service, host=host, port=port, server_header=False)
    else:
        _serve_workers(uvicorn.Config("disaster.web:create_app", factory=True, host=host, port=port, workers=workers,
                                      server_header=False))


def _serve_workers(config: uvicorn.Config) -> None:
    """uvicorn's process supervisor on a listening socket marked as TCP: asyncio turns Nagle's
    algorithm off only on such sockets, and uvicorn's own (protocol 0) adds ~40 ms to every
    answer of a multi-worker server (uvicorn issue 3149)."""
    import socket

    from uvicorn.supervisors import Multiprocess

    bound = config.bind_socket()
    listening = socket.socket(bound.family, bound.type, socket.IPPROTO_TCP, fileno=bound.detach())
    listening.set_inheritable(True)
    with suppress(KeyboardInterrupt):
        Multiprocess(config, sockets=[listening]).run()


@app.command()
def worker(
    ctx: typer.Context,
    concurrency: Annotated[int | None, typer.Option(min=1, help="同時に実行するジョブの数（既定: DISASTER_JOB_WORKERS、最低 1）")] = None,
) -> None:
    """時間のかかる処理（ジョブ）を実行するワーカーを起動します。DISASTER_JOB_QUEUE=procrastinate（PostgreSQL）なら
    待ち行列からジョブを受け取ります（同じデータベースを指せば、どの機械でも何台でも動かせます）。それ以外は
    データベースの待機中のジョブを直接取ります。Ctrl-C で止まります（実行中のジョブは「中断」になり、再実行できます）。"""
    import signal

    from disaster.jobs import embedded
    from disaster.jobs.processes import isolate_child_processes
    from disaster.jobs.runner import require_jobs
    from disaster.settings import get_settings

    def action(store: Store) -> None:
        require_jobs(store.engine)
        isolate_child_processes()
        os.environ["DISASTER_DB"] = store.engine.url.render_as_string(hide_password=False)  # for the tasks
        get_settings.cache_clear()
        settings = get_settings()
        count = concurrency or max(settings.job_workers, 1)
        if settings.job_queue == "procrastinate":
            from disaster.jobs import queue  # optional extra "postgres"

            queue.ensure_schema(store.engine, settings.db)
            console.print(f"[green]✓[/green] ジョブのワーカー（procrastinate、同時に {count} 件）を起動しました。", highlight=False)
            queue.run_worker(settings, count)
            return
        signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop like Ctrl-C: running jobs become 中断
        console.print(f"[green]✓[/green] ジョブのワーカー（同時に {count} 件）を起動しました。", highlight=False)
        try:
            embedded.EmbeddedWorkers(store.sessions, settings, count).run_forever()
        except KeyboardInterrupt:
            console.print("ジョブのワーカーを止めました。")

    _run(ctx, action, serves=True)


# --- jobs asked for from the command line (run by `disaster worker` on any machine) ---

jobs_app = typer.Typer(help="ジョブ：時間のかかる処理を待ち行列に入れ、状態を見て、結果を取り出します（実行は `disaster worker`）。",
                       no_args_is_help=True)
app.add_typer(jobs_app, name="jobs")
AsLogin = Annotated[str, typer.Option("--as", help="ジョブを実行するアカウントのログインID（その権限で実行され、結果はそのアカウントと市の管理者が取り出せます）")]


def _queue_jobs(store: Store, login: str, kind: str, parameter_sets: list[dict[str, Any]]) -> list[int]:
    """Create a job of ``kind`` per parameter set as account ``login`` (checked as the service checks
    a request of theirs), audit each, and hand them to the queue; their ids."""
    from disaster import auditlog
    from disaster.jobs.runner import run_as
    from disaster.settings import get_settings
    from disaster.usecases import jobs as job_usecases

    with store.sessions() as session:
        principal = run_as(session, login, store.city_code)
    created = [job_usecases.create(store.sessions, principal, kind, parameters) for parameters in parameter_sets]
    with store.sessions() as session, session.begin():
        for job in created:
            auditlog.record(session, principal, auditlog.Action.JOB_CREATE, target_kind="job",
                            details={"job": job.id, "kind": job.kind, "parameters": job.parameters,
                                     "asked_by": store.principal.login})
    job_queue, url = get_settings().job_queue, store.engine.url.render_as_string(hide_password=False)
    if job_queue == "procrastinate":
        from disaster.jobs import queue  # optional extra "postgres"

        queue.ensure_schema(store.engine, url)
    for job in created:
        job_usecases.hand_over(store.sessions, job_queue, url, job.id)
    return [job.id for job in created]


def _print_queued(ids: list[int]) -> None:
    console.print(f"[green]✓[/green] ジョブ {len(ids)} 件を待ち行列に入れました（番号: {', '.join(map(str, ids))}）。"
                  "`disaster worker` が実行します（`disaster jobs list` で状態を確認）。", highlight=False)


@jobs_app.command("plans")
def jobs_plans(
    ctx: typer.Context,
    as_login: AsLogin,
    district: Annotated[list[str] | None, typer.Option(help="校区名（繰り返し可。省略時はそのアカウントが作れる全校区）")] = None,
    large_print: Annotated[bool, typer.Option("--large-print", help="大きな文字（16pt）")] = False,
    drafts: Annotated[bool, typer.Option("--drafts", help="計画作成の同意がない人の下書き（市職員用・透かし入り）も作る")] = False,
) -> None:
    """校区ごとに「マイプランの一括作成」のジョブを 1 件ずつ入れます。ワーカーが何台あっても校区単位で分担します。"""
    from disaster.jobs.runner import run_as
    from disaster.usecases.jobs import plan_districts

    def action(store: Store) -> list[int]:
        with store.sessions() as session:
            principal = run_as(session, as_login, store.city_code)
        names = plan_districts(store.sessions, principal, district)
        return _queue_jobs(store, as_login, "district_plans",
                           [{"district": name, "large_print": large_print, "include_drafts": drafts} for name in names])

    _print_queued(_run(ctx, action))


@jobs_app.command("assess")
def jobs_assess(ctx: typer.Context, as_login: AsLogin) -> None:
    """「避難判定のやり直し」のジョブを入れます（市ごとに 1 件。複数の市を別々のワーカーが並行して計算できます）。"""
    _print_queued(_run(ctx, lambda store: _queue_jobs(store, as_login, "assessment", [{}])))


@jobs_app.command("list")
def jobs_list(ctx: typer.Context, limit: Annotated[int, typer.Option(min=1, max=200, help="表示する件数")] = 50) -> None:
    """市のジョブを新しい順に表示します。"""
    from disaster.jobs import STATE_LABELS
    from disaster.jobs.kinds import KINDS
    from disaster.usecases.jobs import list_jobs

    page = _run(ctx, lambda store: list_jobs(store.sessions, store.principal, None, 1, limit))
    table = Table(title="ジョブ")
    for column in ("番号", "種類", "校区", "状態", "進み具合", "依頼者", "依頼日時"):
        table.add_column(column)
    for job in page.items:
        table.add_row(str(job.id), KINDS[job.kind].label if job.kind in KINDS else job.kind,
                      str(job.parameters.get("district", "")), STATE_LABELS[job.state], f"{job.progress}%",
                      job.created_by, job.created_at.strftime("%Y-%m-%d %H:%M"))
    console.print(table)


@jobs_app.command("result")
def jobs_result(
    ctx: typer.Context,
    job_id: Annotated[int, typer.Argument(metavar="番号", help="ジョブの番号（jobs list で表示）")],
    out: Annotated[Path | None, typer.Option(help="保存先（既定: ジョブの結果の名前で現在のフォルダ）")] = None,
    force: Force = False,
) -> None:
    """完了したジョブの結果（ZIP など）を保存します（本人だけが読めるファイル）。取り出しは監査ログに記録します。"""
    from disaster import auditlog
    from disaster.outputs import write_file
    from disaster.usecases.jobs import result

    def action(store: Store) -> Path:
        found = result(store.sessions, store.principal, job_id)
        target = out or Path(found.filename)
        with store.sessions() as session, session.begin():  # no entry for a file that was not written
            auditlog.record(session, store.principal, auditlog.Action.JOB_RESULT, residents=found.residents,
                            target_kind="job", details={"job": job_id, "file": str(target), **store.emergency.audit_details()})
            return write_file(target, found.data, private=True, force=force)

    target = _run(ctx, action)
    console.print(f"[green]✓[/green] ジョブ {job_id} の結果を {target} に保存しました。", highlight=False)
