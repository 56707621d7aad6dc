"""Import problems: every message names the file, the row or feature, and the field."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

from disaster import exports, outputs
from disaster.errors import Rejected

T = TypeVar("T")


@dataclass(frozen=True)
class Problem:
    """One problem found in an input file. ``row`` is 1-based (header = row 1 in CSV files,
    so the first data row is 2, as a spreadsheet shows it); for geodata it is the feature number."""

    file: str
    row: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f" {self.row}行目" if self.field != "(feature)" else f" 地物{self.row}"
        if self.field and self.field != "(feature)":
            where += f"「{self.field}」"
        return f"{where}: {self.message}"


PATH_FORMS = frozenset({".", ".."})


def identifier_problem(value: str) -> str | None:
    """Why ``value`` cannot be an identifier or a name used as a key (名簿番号, 支援者番号, 校区,
    shelter code): it would act as a path (``/``, ``\\``, ``.``/``..``) or holds a control
    character (NUL, a line break, a tab, a bidirectional override …). None when it is fine.
    The reason names the kind of character, never the value itself."""
    if value in PATH_FORMS:
        return "「.」「..」は番号・名前に使えません。"
    if "/" in value or "\\" in value:
        return "「/」「\\」（パスの区切り）は番号・名前に使えません。"
    if any(unicodedata.category(ch) in {"Cc", "Cf", "Cs", "Zl", "Zp"} for ch in value):
        return "制御文字（改行・タブ・NUL など）は番号・名前に使えません。"
    return None


class ImportRejected(Rejected):
    """The input has problems; nothing was written."""

    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__(f"{len(problems)} 件の問題があるため、取り込みを中止しました（何も書き込んでいません）。")


@dataclass
class Parsed(Generic[T]):
    """Valid records with the source rows they came from; problems with the rejected rows."""

    records: list[T] = field(default_factory=list)
    rows: list[int | None] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    rejected: dict[int | None, dict[str, Any]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)  # what the user should know (Japanese), e.g. rows left out

    def add(self, record: T, row: int | None) -> None:
        self.records.append(record)
        self.rows.append(row)

    def reject(self, problems: list[Problem], row: int | None, raw: dict[str, Any]) -> None:
        self.problems += problems
        self.rejected[row] = raw


def write_rejects(path: Path, parts: list[Parsed[Any]]) -> None:
    """Write every rejected row with its problems as UTF-8 CSV with BOM (opens in Excel), readable
    by its owner only; an earlier rejects file (or a symlink) at ``path`` is replaced."""
    entries = [(p, part.rejected.get(p.row, {})) for part in parts for p in part.problems]
    fieldnames: list[str] = ["ファイル", "行", "項目", "問題"]
    for _, raw in entries:
        fieldnames += [str(k) for k in raw if str(k) not in fieldnames]
    rows = [{str(k): v for k, v in raw.items()} | {"ファイル": problem.file, "行": problem.row, "項目": problem.field,
                                                   "問題": problem.message} for problem, raw in entries]
    outputs.write_file(path, exports.csv_bytes(fieldnames, exports.dict_rows(fieldnames, rows)), force=True)
