#!/usr/bin/env bash
# Takes the TrueType hinting out of the built-in Latin faces, src/typeset/fonts/NotoSans-Regular.ttf
# and NotoSans-Bold.ttf (SIL OFL 1.1, see src/typeset/fonts/OFL.txt), in place: the fpgm, prep and
# cvt tables and every glyph's instructions. Everything else stays: every glyph, every character,
# the layout tables, the names.
#
# Why: every document embeds a subset of these faces, and hinting was two fifths of it (a 3-page
# agreement's Regular subset: 19.7 KB with hinting, 9.9 KB without; the fpgm alone is 3.6 KB in
# every subset however few its glyphs). Hinting moves outlines onto the pixel grid of small
# screen sizes; PDF viewers (pdf.js, Poppler, Chromium) rasterise at the zoom a reader picks and
# most do not run it, and print never needs it. The built-in CJK face has none either
# (scripts/subset-cjk-font.sh). docs/PERFORMANCE.md, under Documents, has the sizes.
#
# With fontTools (pinned below) in the virtualenv scripts/subset-cjk-font.sh uses, made on first
# use (needs PyPI). Running it again on its own output changes nothing (byte-identical), and
# head.modified stays the source's. To start again from Debian's faces, pass them:
#   scripts/dehint-latin-fonts.sh /usr/share/fonts/truetype/noto/NotoSans-{Regular,Bold}.ttf
#
# Usage: scripts/dehint-latin-fonts.sh [REGULAR BOLD]
set -euo pipefail

FONTTOOLS_VERSION=4.69.1
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FONT_DIR=$ROOT/src/typeset/fonts
REGULAR=${1:-$FONT_DIR/NotoSans-Regular.ttf}
BOLD=${2:-$FONT_DIR/NotoSans-Bold.ttf}
VENV=${XDG_CACHE_HOME:-$HOME/.cache}/usefirst/fonttools-venv

if ! "$VENV/bin/python" -c "import sys, fontTools; sys.exit(fontTools.version != '$FONTTOOLS_VERSION')" 2>/dev/null; then
    echo "dehint-latin-fonts: installing fonttools==$FONTTOOLS_VERSION into $VENV"
    mkdir -p "$(dirname "$VENV")"
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install --quiet --disable-pip-version-check "fonttools==$FONTTOOLS_VERSION"
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

for pair in "$REGULAR:NotoSans-Regular.ttf" "$BOLD:NotoSans-Bold.ttf"; do
    source=${pair%%:*}
    name=${pair#*:}
    [ -r "$source" ] || { echo "dehint-latin-fonts: $source is missing" >&2; exit 1; }
    # Every glyph and character (--glyphs/--unicodes '*'), every layout feature, name and
    # language, the code page and Unicode range bits as they are; only the hinting goes.
    "$VENV/bin/pyftsubset" "$source" \
        --glyphs='*' --unicodes='*' \
        --layout-features='*' \
        --name-IDs='*' --name-languages='*' --name-legacy \
        --notdef-glyph --notdef-outline \
        --no-prune-unicode-ranges --no-prune-codepage-ranges \
        --glyph-names --legacy-kern \
        --no-hinting \
        --no-recalc-timestamp \
        --output-file="$work/$name"
    # Check before replacing: the same characters, the same glyphs, no hinting left.
    "$VENV/bin/python" - "$source" "$work/$name" <<'PY'
import sys
from fontTools.ttLib import TTFont
before, after = (TTFont(p) for p in sys.argv[1:])
if before.getBestCmap() != after.getBestCmap():
    sys.exit(f"dehint-latin-fonts: {sys.argv[2]}: the characters changed")
if before.getGlyphOrder() != after.getGlyphOrder():
    sys.exit(f"dehint-latin-fonts: {sys.argv[2]}: the glyphs changed")
left = [t for t in ("fpgm", "prep", "cvt ") if t in after]
glyf = after["glyf"]
hinted = [g for g in after.getGlyphOrder()
          if hasattr(glyf[g], "program") and glyf[g].program.getBytecode()]
if left or hinted:
    sys.exit(f"dehint-latin-fonts: hinting left: tables {left}, {len(hinted)} glyph programs")
PY
    old=$(stat -c %s "$source")
    cp "$work/$name" "$FONT_DIR/$name"
    echo "dehint-latin-fonts: $name: $old -> $(stat -c %s "$FONT_DIR/$name") bytes"
done
