"""The Japanese font for PDFs.

IPAexGothic (Debian ``fonts-ipaexfont``) is small and fast to subset (Noto Sans CJK's huge TTC is
~30× slower per document). For speed, a copy cut down to the JIS X 0208 characters (those CP932
can encode: kana, 第1・第2水準 kanji, symbols) is built once into the user cache; the full font
stays in the CSS font stack as a fallback, so a rare character in a name is still drawn.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from disaster.errors import NotReady

FONT_FAMILY = "IPAexGothic"
# Characters outside CP932 that documents commonly use (list bullets, wave dash, check boxes).
EXTRA_CHARACTERS = "•〜−—―☐☑☒✓"
SUBSET_VERSION = "2"  # bump when the character set changes (the cache file name includes it)
KNOWN_PATHS = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/ipaexfont-gothic/ipaexg.ttf",
)


class FontMissing(NotReady):
    """No Japanese font is installed."""


@dataclass(frozen=True)
class PlanFonts:
    common: Path  # JIS X 0208 subset, used first
    full: Path  # the whole font, fallback for rare characters


def find_font() -> Path:
    """The IPAexGothic file: ``DISASTER_FONT``, fontconfig, or the Debian path."""
    if configured := os.environ.get("DISASTER_FONT"):
        return Path(configured)
    if shutil.which("fc-match"):
        result = subprocess.run(["fc-match", "-f", "%{file}", FONT_FAMILY], capture_output=True, text=True)
        if result.returncode == 0 and "ipaex" in result.stdout.lower():
            return Path(result.stdout)
    for path in KNOWN_PATHS:
        if Path(path).exists():
            return Path(path)
    raise FontMissing("日本語フォント（IPAexゴシック）がありません。`apt-get install fonts-ipaexfont` を実行してください。")


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return base / "disaster-toolkit" / "fonts"


def plan_fonts() -> PlanFonts:
    """The font pair, building the JIS subset on first use (a few seconds, then cached)."""
    full = find_font()
    digest = hashlib.sha256(full.read_bytes()).hexdigest()[:16]
    common = cache_dir() / f"{full.stem}-jis0208-v{SUBSET_VERSION}-{digest}.ttf"
    if not common.exists():
        _build_subset(full, common)
    return PlanFonts(common, full)


def _build_subset(source: Path, target: Path) -> None:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    codepoints = [cp for cp in range(0x20, 0x10000) if _in_cp932(chr(cp))] + [ord(c) for c in EXTRA_CHARACTERS]
    options = subset.Options()
    options.layout_features = ["*"]
    options.name_IDs = ["*"]
    options.notdef_outline = True
    font = TTFont(source)
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=codepoints)
    subsetter.subset(font)
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    font.save(partial)
    partial.replace(target)  # atomic: parallel workers never see half a file


def _in_cp932(char: str) -> bool:
    try:
        char.encode("cp932")
    except UnicodeEncodeError:
        return False
    return True
