"""Every file the toolkit writes goes through here: names derived from data, contained writes.

Names from the data (a 名簿番号, a 校区) are never used as paths: ``file_name`` turns one into an
allow-listed slug (letters and digits of any script, so Japanese stays readable; ``-`` and ``_``)
followed by a stable id (the first 8 hex digits of the SHA-256 of the name), e.g.
``plan_0001_888b19a4.pdf``. Names that differ only in what the slug drops (``a/b`` and ``a_b``)
or in case (on a case-insensitive disk) still get different files through the id.

``OutputFolder`` writes one folder: each write

- takes a single file name (no separator, no ``..``) and checks the resolved target stays inside
  the folder;
- goes to a fresh temporary file in the same folder (``O_CREAT | O_EXCL | O_NOFOLLOW``) that then
  replaces the target (``os.replace``: a symlink planted at the target is replaced, never written
  through); a sub-folder that is a symlink is refused;
- refuses to replace an existing file unless ``force`` (the CLI's ``--force``);
- creates files 0600 and folders 0700 when ``private`` (personal data), else 0644 and 0755 (the
  modes are set explicitly, the process umask is not changed).
"""

from __future__ import annotations

import errno
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from disaster import errors

PRIVATE_FILE, PRIVATE_DIR = 0o600, 0o700
PUBLIC_FILE, PUBLIC_DIR = 0o644, 0o755
SLUG_MAX = 40  # characters of the name kept in a file name
_NOT_SLUG = re.compile(r"[^\w-]+")  # \w: letters, digits (any script) and "_"


def slug(name: str) -> str:
    """The readable part of a file name: letters, digits, ``-`` and ``_`` of ``name`` (NFC), other
    runs (separators, dots, spaces, control characters) as one ``_``; never empty."""
    text = _NOT_SLUG.sub("_", unicodedata.normalize("NFC", name)).strip("_-")
    return text[:SLUG_MAX] or "_"


def stable_id(name: str) -> str:
    return hashlib.sha256(name.encode("utf-8")).hexdigest()[:8]


def file_name(prefix: str, name: str, suffix: str) -> str:
    """``<prefix>_<slug>_<id><suffix>``, e.g. ``file_name("plan", "0001", ".pdf")``."""
    return f"{prefix}_{slug(name)}_{stable_id(name)}{suffix}"


def _checked_name(name: str) -> str:
    if not name or name in (".", "..") or "/" in name or "\\" in name or "\x00" in name or name != Path(name).name:
        raise errors.Rejected(f"出力ファイル名「{slug(name)}」は使えません（フォルダの区切りなどを含みます）。")
    return name


@dataclass(frozen=True)
class OutputFolder:
    """A folder the toolkit writes into (created when missing); see the module docstring.
    ``root`` is the user's choice (it may be a symlink); sub-folders made by ``folder`` may not."""

    root: Path
    private: bool = True
    force: bool = False
    top: Path | None = None  # the resolved folder the user named (None: this one)

    def __post_init__(self) -> None:
        if self.top is not None and os.path.islink(self.root):
            raise errors.Rejected(f"出力先 {self.root} はシンボリックリンクです（書き込みません）。")
        mode = PRIVATE_DIR if self.private else PUBLIC_DIR
        try:
            self.root.mkdir(mode=mode, parents=True)
        except FileExistsError:
            if not self.root.is_dir():
                raise errors.Rejected(f"出力先 {self.root} はフォルダではありません。") from None
        else:
            os.chmod(self.root, mode)  # mkdir's mode is reduced by the umask
        if self.top is None:
            object.__setattr__(self, "top", self.root.resolve())

    @property
    def file_mode(self) -> int:
        return PRIVATE_FILE if self.private else PUBLIC_FILE

    def path(self, name: str) -> Path:
        """The target of ``name``, checked to stay inside the folder."""
        target = self.root / _checked_name(name)
        top = self.top or self.root.resolve()
        if (os.path.islink(self.root) and self.root.resolve() != top) or not target.parent.resolve().is_relative_to(top):
            raise errors.Rejected(f"出力ファイル「{slug(name)}」が出力フォルダの外を指しています。")
        return target

    def folder(self, name: str, private: bool | None = None) -> OutputFolder:
        """A sub-folder (a symlink there is refused)."""
        return OutputFolder(self.path(name), self.private if private is None else private, self.force, self.top)

    def check_free(self, names: Iterable[str]) -> None:
        """Refuse (before anything is written) when one of ``names`` exists and not ``force``."""
        if self.force:
            return
        taken = [name for name in names if os.path.lexists(self.path(name))]
        if taken:
            more = f" ほか {len(taken) - 1} 件" if len(taken) > 1 else ""
            raise errors.Rejected(f"{self.root / taken[0]}{more} がすでにあります。上書きするときは --force を付けてください。")

    @contextmanager
    def writing(self, name: str, replace: bool = False) -> Iterator[BinaryIO]:
        """A binary handle on a new temporary file that becomes ``name`` when the block ends
        without an error (``replace``: an existing file is replaced even without ``force``, for
        files that are the same on every run such as map assets)."""
        target = self.path(name)
        overwrite = self.force or replace
        if not overwrite:
            self.check_free([name])
        elif os.path.isdir(target) and not os.path.islink(target):
            raise errors.Rejected(f"{target} はフォルダです。")
        temporary = self.root / f".{slug(name)}.{os.urandom(6).hex()}.part"
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, self.file_mode)
        try:
            with os.fdopen(descriptor, "wb") as handle:
                os.fchmod(handle.fileno(), self.file_mode)  # explicit, whatever the umask
                yield handle
            if overwrite:
                os.replace(temporary, target)  # a symlink at the target is replaced, not followed
            else:
                _move_new(temporary, target)
        except FileExistsError:
            os.unlink(temporary)
            raise errors.Rejected(f"{target} がすでにあります。上書きするときは --force を付けてください。") from None
        except BaseException:
            if os.path.lexists(temporary):
                os.unlink(temporary)
            raise

    def write_bytes(self, name: str, data: bytes, replace: bool = False) -> Path:
        with self.writing(name, replace) as handle:
            handle.write(data)
        return self.path(name)

    def write_text(self, name: str, text: str, encoding: str = "utf-8", replace: bool = False) -> Path:
        return self.write_bytes(name, text.encode(encoding), replace)

    def copy_tree(self, source: Path, name: str) -> Path:
        """Copy the files under ``source`` into the sub-folder ``name``, replacing earlier copies
        (static assets: the same on every run)."""
        target = self.folder(name, private=False)
        for entry in sorted(source.iterdir()):
            if entry.is_dir():
                target.copy_tree(entry, entry.name)
            else:
                with entry.open("rb") as handle:
                    target.write_bytes(entry.name, handle.read(), replace=True)
        return target.root


def _move_new(temporary: Path, target: Path) -> None:
    """Move ``temporary`` to ``target`` unless something is there (``FileExistsError``): a hard
    link fails if the target appeared meanwhile; where links are not supported (some network
    shares), the target is checked just before the move."""
    try:
        os.link(temporary, target, follow_symlinks=False)
    except FileExistsError:
        raise
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV, errno.EMLINK):
            raise
        if os.path.lexists(target):
            raise FileExistsError(target) from None
        os.replace(temporary, target)
    else:
        os.unlink(temporary)


def write_file(path: Path, data: bytes, private: bool = True, force: bool = False) -> Path:
    """One file the user named (``--out file``), written as ``OutputFolder`` writes."""
    return OutputFolder(path.parent, private, force).write_bytes(path.name, data)
