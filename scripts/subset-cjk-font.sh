#!/usr/bin/env bash
# Makes the built-in CJK font: src/typeset/fonts/NotoSansSC-Subset.otf, a subset of
# Noto Sans CJK SC Regular (Google Fonts calls it "Noto Sans SC"; SIL OFL 1.1, see
# src/typeset/fonts/NotoSansSC-OFL.txt), so Chinese documents render on a machine with no
# system fonts. Also writes src/typeset/fonts/NotoSansSC-Subset.chars.txt, the characters the
# subset covers: one per line, as "U+XXXX # c", sorted by code point (a later run's diff shows
# what changed).
#
# From: face 2 (SC) of Debian's fonts-noto-cjk NotoSansCJK-Regular.ttc (or the font given as $1,
# face $CJK_FONT_NUMBER), with fontTools (pinned below) in a virtualenv of its own under
# ${XDG_CACHE_HOME:-~/.cache}/usefirst/fonttools-venv, made on first use (needs PyPI).
#
# Characters: all of GB 2312 rows 1-9 (symbols, punctuation, full-width forms, kana, Greek,
# Cyrillic, pinyin, box drawing) and level-1 hanzi (rows 16-55, 0xB0A1-0xD7F9); printable ASCII;
# and every non-ASCII character in contract-templates/**, src/**/*.rs, tests/**/*.rs,
# mail-templates/**, config/** (the zh templates, the demo seed in src/seed/, labels). Only the
# characters the face has go in; repo characters it lacks are listed at the end, each with
# whether the built-in Noto Sans (which documents try first) has it.
#
# Run it again after adding Chinese text to any of those files (templates, seed data, labels)
# that is outside GB 2312 level 1, or after a fonts-noto-cjk upgrade; commit the .otf and the
# .chars.txt together. The output is byte-identical from run to run for the same inputs.
#
# Usage: scripts/subset-cjk-font.sh [SOURCE_FONT]
#   SOURCE_FONT       default /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
#   CJK_FONT_NUMBER   the face in a .ttc (default 2, Noto Sans CJK SC); 0 for a single .otf
set -euo pipefail

FONTTOOLS_VERSION=4.69.1
SOURCE=${1:-/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc}
FONT_NUMBER=${CJK_FONT_NUMBER:-2}
EXPECTED_FAMILY="Noto Sans CJK SC"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FONT_DIR=$ROOT/src/typeset/fonts
OUT=$FONT_DIR/NotoSansSC-Subset.otf
CHARS=$FONT_DIR/NotoSansSC-Subset.chars.txt
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/usefirst/fonttools-venv

if [ ! -r "$SOURCE" ]; then
    echo "subset-cjk-font: source font $SOURCE is missing." >&2
    echo "subset-cjk-font: install it with 'apt-get install fonts-noto-cjk' (or scripts/install-deps.sh)," >&2
    echo "subset-cjk-font: or pass the path of a Noto Sans CJK SC font as the first argument." >&2
    exit 1
fi

# fontTools, pinned, in its own virtualenv (re-made when missing or at another version).
if ! "$VENV/bin/python" -c "import sys, fontTools; sys.exit(fontTools.version != '$FONTTOOLS_VERSION')" 2>/dev/null; then
    echo "subset-cjk-font: installing fonttools==$FONTTOOLS_VERSION into $VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "fonttools==$FONTTOOLS_VERSION"
fi
PY=$VENV/bin/python

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# 1. The character list: what we want and the face has, for people (chars.txt) and, as bare
#    code points, for pyftsubset --unicodes-file (unicodes.txt); the repo's characters the face
#    lacks go to missing.txt for the report.
"$PY" - "$ROOT" "$SOURCE" "$FONT_NUMBER" "$EXPECTED_FAMILY" "$work" <<'PY'
import sys, unicodedata
from pathlib import Path
from fontTools.ttLib import TTFont

root, source, number, family, work = sys.argv[1:]
root, work = Path(root), Path(work)

face = TTFont(source, fontNumber=int(number), lazy=True)
name = face["name"].getDebugName(1)
if name != family:
    sys.exit(f"subset-cjk-font: face {number} of {source} is {name!r}, not {family!r}")
cmap = face.getBestCmap()

# GB 2312: rows 1-9 (0xA1A1-0xA9FE) and level-1 hanzi rows 16-55 (0xB0A1-0xD7FE); codes
# with no character (gaps in the symbol rows, the end of row 55) do not decode and are skipped.
gb2312 = set()
for lo_row, hi_row in ((0xA1, 0xA9), (0xB0, 0xD7)):
    for row in range(lo_row, hi_row + 1):
        for cell in range(0xA1, 0xFF):
            try:
                gb2312.add(ord(bytes((row, cell)).decode("gb2312")))
            except UnicodeDecodeError:
                pass

# The repo's own text.
patterns = [
    ("contract-templates", "**/*"),
    ("src", "**/*.rs"),
    ("tests", "**/*.rs"),
    ("mail-templates", "**/*"),
    ("config", "**/*"),
]
repo = set()
files = 0
for top, pattern in patterns:
    for path in sorted((root / top).glob(pattern)):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            sys.exit(f"subset-cjk-font: {path.relative_to(root)} is not UTF-8: {e}")
        files += 1
        repo.update(ord(c) for c in text if ord(c) > 0x7F)

# Control characters and surrogates are never drawn.
def drawable(cp):
    return unicodedata.category(chr(cp)) not in ("Cc", "Cs")

ascii_printable = set(range(0x20, 0x7F))
wanted = {cp for cp in gb2312 | repo | ascii_printable if drawable(cp)}
have = sorted(cp for cp in wanted if cp in cmap)

def show(cp):
    c = chr(cp)
    return ("\u25cc" + c) if unicodedata.category(c).startswith("M") else c  # a mark on a circle

with open(work / "chars.txt", "w", encoding="utf-8") as f:
    f.write("# Characters in NotoSansSC-Subset.otf, made by scripts/subset-cjk-font.sh: do not edit.\n")
    f.write("# One per line: code point, then the character after '#'.\n")
    for cp in have:
        f.write(f"U+{cp:04X} # {chr(cp)}\n")
with open(work / "unicodes.txt", "w", encoding="ascii") as f:
    f.writelines(f"{cp:04X}\n" for cp in have)

gb_missing = sorted(cp for cp in gb2312 if cp not in cmap)
repo_missing = sorted(cp for cp in repo if drawable(cp) and cp not in cmap)
noto_sans = TTFont(root / "src/typeset/fonts/NotoSans-Regular.ttf", lazy=True).getBestCmap()
with open(work / "missing.txt", "w", encoding="utf-8") as f:
    for cp in repo_missing:
        where = "in Noto Sans" if cp in noto_sans else "NOT in Noto Sans either"
        f.write(f"  U+{cp:04X} {show(cp)}  {unicodedata.name(chr(cp), '?')}  ({where})\n")

print(f"subset-cjk-font: source {source} face {number}: {name}, "
      f"{face['name'].getDebugName(5)}, {len(cmap)} characters")
print(f"subset-cjk-font: GB 2312 rows 1-9 + level 1: {len(gb2312)} characters"
      + (f", {len(gb_missing)} not in the face: {''.join(map(chr, gb_missing))}" if gb_missing else ", all in the face"))
print(f"subset-cjk-font: repo text ({files} files): {len(repo)} distinct non-ASCII characters, "
      f"{len(repo - gb2312)} of them outside GB 2312 level 1")
PY

# 2. The subset, with and without --desubroutinize: the smaller one is kept (ties: without).
#    pyftsubset's default layout features, less 'locl' and the vertical ones: 'locl' would pull in
#    the Japanese, Korean and Traditional forms of the hanzi (about 3,250 glyphs, near double the
#    size) that Simplified Chinese text never reaches, and documents are set horizontally. (The
#    PDF writer, printpdf, reads neither GSUB nor GPOS; what is kept is for a shaper some day.)
#    No bidi closure: it would add mirrored partners (∋ for ∈, ≅ for ≌) nobody asked for.
#    head.modified stays the source's (no --recalc-timestamp), so runs are byte-identical.
subset() {
    "$VENV/bin/pyftsubset" "$SOURCE" \
        --font-number="$FONT_NUMBER" \
        --unicodes-file="$work/unicodes.txt" \
        --no-bidi-closure \
        --layout-features-=locl,valt,vert,vkrn,vpal,vrt2,vhal,vchw \
        --no-hinting \
        --name-IDs='*' \
        --no-recalc-timestamp \
        "$@"
}
subset --output-file="$work/plain.otf"
subset --desubroutinize --output-file="$work/desub.otf"
plain_size=$(stat -c %s "$work/plain.otf")
desub_size=$(stat -c %s "$work/desub.otf")
if [ "$desub_size" -lt "$plain_size" ]; then
    chosen=$work/desub.otf
    how="--desubroutinize ($desub_size bytes; with subroutines $plain_size)"
else
    chosen=$work/plain.otf
    how="subroutines kept ($plain_size bytes; --desubroutinize $desub_size)"
fi

# 3. Check it before it replaces the committed one: CFF-flavoured OpenType, the tables the PDF
#    writer reads, and exactly the listed characters.
"$PY" - "$chosen" "$work/unicodes.txt" <<'PY'
import sys
from fontTools.ttLib import TTFont

path, unicodes = sys.argv[1:]
with open(path, "rb") as f:
    magic = f.read(4)
if magic != b"OTTO":
    sys.exit(f"subset-cjk-font: the subset is not CFF-flavoured OpenType (magic {magic!r})")
font = TTFont(path)
for table in ("CFF ", "cmap", "head", "hhea", "hmtx", "maxp", "name", "OS/2", "post"):
    if table not in font:
        sys.exit(f"subset-cjk-font: the subset has no {table!r} table")
cmap = font.getBestCmap()
with open(unicodes, encoding="ascii") as f:
    wanted = {int(line, 16) for line in f}
if set(cmap) != wanted:
    sys.exit(f"subset-cjk-font: the subset maps {len(cmap)} characters, the list has {len(wanted)}")
required = "甲方乙方合同试用技术转让第页共人民币元啊座"
lacking = [c for c in required if ord(c) not in cmap]
if lacking:
    sys.exit(f"subset-cjk-font: the subset lacks {''.join(lacking)}")
PY

cp "$chosen" "$OUT"
cp "$work/chars.txt" "$CHARS"

glyphs=$("$PY" -c "import sys; from fontTools.ttLib import TTFont; print(TTFont(sys.argv[1])['maxp'].numGlyphs)" "$OUT")
covered=$(grep -c '^U+' "$CHARS")
echo "subset-cjk-font: ${OUT#"$ROOT"/}: $(stat -c %s "$OUT") bytes, $covered characters, $glyphs glyphs, $how"
echo "subset-cjk-font: ${CHARS#"$ROOT"/}: the character list"
missing=$(grep -c . "$work/missing.txt" || true)
if [ "$missing" -eq 0 ]; then
    echo "subset-cjk-font: the face has every character of the repo's text"
else
    echo "subset-cjk-font: $missing characters of the repo's text are not in the face:"
    cat "$work/missing.txt"
fi
