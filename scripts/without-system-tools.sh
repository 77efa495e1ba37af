#!/usr/bin/env bash
# Runs a command as on a machine with only the Rust toolchain: inside a private mount
# namespace (util-linux `unshare`, as root) where what the project's checks could come to lean
# on cannot be used — poppler's PDF tools, every installed font, Python (Debian's and pyenv's,
# with openpyxl and fontTools), and the sqlite3/psql clients, wrk, curl and jq that
# scripts/install-deps.sh adds. The build's own needs (cargo, cc, libpq, libssl) stay.
#
# .ci/run runs the README's `cargo test` under it, so a test that starts needing one of these
# fails CI instead of a new user's first try. Nothing outside the namespace changes.
#
# Usage: scripts/without-system-tools.sh COMMAND [ARGS...]
set -euo pipefail

if [ "$#" -eq 0 ]; then
    echo "usage: $0 COMMAND [ARGS...]" >&2
    exit 2
fi

if [ "${UF_SYSTEM_TOOLS_HIDDEN:-}" != 1 ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "without-system-tools: needs root (a private mount namespace)" >&2
        exit 1
    fi
    exec unshare --mount --propagation private \
        env UF_SYSTEM_TOOLS_HIDDEN=1 bash "${BASH_SOURCE[0]}" "$@"
fi

# Inside the namespace. Mounts here are seen by this process tree only.
hidden=()

# A file becomes /dev/null: not executable (so not on PATH), empty when read.
hide_file() {
    mount --bind /dev/null "$1"
    hidden+=("$1")
}

# A folder becomes an empty read-only one.
hide_dir() {
    mount -t tmpfs -o ro,size=4k,mode=755 usefirst-hidden "$1"
    hidden+=("$1/")
}

# Tools by name, wherever PATH (or the usual folders) has them.
tools=(pdftotext pdffonts pdfinfo pdftoppm pdftocairo pdfimages pdfseparate pdfunite pdfdetach
    pdfsig pdfattach pdftohtml pdftops qpdf mutool gs
    python python3 python3.11 python3.12 python3.13 pip pip3 pyftsubset fonttools
    sqlite3 psql wrk curl jq fc-list fc-match)
IFS=: read -r -a path_dirs <<<"$PATH:/usr/local/bin:/usr/bin:/bin"
declare -A seen=()
for dir in "${path_dirs[@]}"; do
    [ -d "$dir" ] || continue
    dir=$(readlink -f "$dir")
    for tool in "${tools[@]}"; do
        file=$dir/$tool
        real=$(readlink -f "$file" 2>/dev/null || true)
        if [ -e "$file" ] && [ -z "${seen[$file]:-}" ]; then
            seen[$file]=1
            hide_file "$file"
            # The target too, so another name of the same program is no way round.
            if [ -n "$real" ] && [ "$real" != "$file" ] && [ -z "${seen[$real]:-}" ]; then
                seen[$real]=1
                hide_file "$real"
            fi
        fi
    done
done

# Python's installations and libraries, fonts and their configuration.
for dir in "${HOME:-/root}/.pyenv" /usr/lib/python3 /usr/lib/python3.11 /usr/local/lib/python3.11 \
    /usr/share/fonts /usr/local/share/fonts "${HOME:-/root}/.fonts" "${HOME:-/root}/.local/share/fonts" \
    /etc/fonts; do
    if [ -d "$dir" ]; then
        hide_dir "$dir"
    fi
done

# Proof, before the command runs, that nothing of it is left: no PATH folder holds an
# executable file of these names (bash's `command -v` would name a non-executable one too).
for tool in pdftotext pdffonts pdfinfo pdftoppm python3 python sqlite3 psql; do
    for dir in "${path_dirs[@]}"; do
        if [ -f "$dir/$tool" ] && [ -x "$dir/$tool" ]; then
            echo "without-system-tools: $tool is still usable at $dir/$tool" >&2
            exit 1
        fi
    done
done
if [ -n "$(find /usr/share/fonts -type f 2>/dev/null | head -n 1)" ]; then
    echo "without-system-tools: fonts are still installed under /usr/share/fonts" >&2
    exit 1
fi

echo "without-system-tools: hidden ${#hidden[@]} paths: ${hidden[*]}"
# The marker is this script's own (and not under USEFIRST_, which the service reads as config).
unset UF_SYSTEM_TOOLS_HIDDEN
exec "$@"
