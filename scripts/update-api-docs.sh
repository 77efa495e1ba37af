#!/usr/bin/env bash
# Vendors Swagger UI from the npm package swagger-ui-dist into static/api-docs/, which the app
# embeds and serves at /api/docs/ as an offline, interactive view of /api/openapi.json.
#
#   bash scripts/update-api-docs.sh            # latest swagger-ui-dist
#   bash scripts/update-api-docs.sh 5.35.0     # a given version
#
# Copies only what the page loads (swagger-ui-bundle.js, swagger-ui.css) and the licence texts
# (LICENSE, NOTICE, and the bundle's third-party notices), then writes index.html with the
# version in a comment. The page loads nothing from outside the app: no CDN, no web fonts, and
# the online spec validator is off. Needs node and npm; nothing is installed outside a temp folder.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

version=${1:-${SWAGGER_UI_VERSION:-latest}}
dest=static/api-docs

command -v npm >/dev/null || { echo "update-api-docs: npm is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/uf-api-docs.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

echo "update-api-docs: installing swagger-ui-dist@$version into a temp folder"
# --ignore-scripts: the package's dependencies carry an install-time analytics hook; the files
# we copy need no install step.
(cd "$tmp" && npm install --silent --no-audit --no-fund --no-save --ignore-scripts \
    --no-package-lock --prefix "$tmp" "swagger-ui-dist@$version" </dev/null >/dev/null)

pkg="$tmp/node_modules/swagger-ui-dist"
installed=$(node -p "require('$pkg/package.json').version")
for f in swagger-ui-bundle.js swagger-ui.css LICENSE; do
    [ -f "$pkg/$f" ] || { echo "update-api-docs: swagger-ui-dist $installed has no $f" >&2; exit 1; }
done

# Only what this script writes is replaced: usefirst-docs.css and usefirst-docs.js, the page's
# own style and start-up (files, as the pages' Content-Security-Policy allows no inline script),
# are ours and are edited where they stand.
mkdir -p "$dest"
rm -f "$dest/swagger-ui-bundle.js" "$dest/swagger-ui.css" "$dest/LICENSE" "$dest/NOTICE" \
    "$dest/swagger-ui-bundle.js.LICENSE.txt" "$dest/index.html"
cp "$pkg/swagger-ui-bundle.js" "$pkg/swagger-ui.css" "$pkg/LICENSE" "$dest/"
for f in NOTICE swagger-ui-bundle.js.LICENSE.txt; do
    [ -f "$pkg/$f" ] && cp "$pkg/$f" "$dest/"
done
# The bundle may point at a source map we do not ship; drop the pointer so no request is made.
sed -i '/^\/\/# sourceMappingURL=/d' "$dest/swagger-ui-bundle.js"
sed -i '/^\/\*# sourceMappingURL=.*\*\/$/d' "$dest/swagger-ui.css"

cat >"$dest/index.html" <<HTML
<!DOCTYPE html>
<!--
  usefirst API documentation, served at /api/docs/ from files embedded in the binary.
  Swagger UI from the npm package swagger-ui-dist ${installed} (Apache-2.0: see LICENSE, NOTICE and
  swagger-ui-bundle.js.LICENSE.txt beside this file). Regenerate with scripts/update-api-docs.sh.
  Everything loads from this folder and the app itself: no CDN, no web fonts, and the online
  spec validator is off (validatorUrl: null). Paths are relative, so the page must be opened
  at /api/docs/ (with the trailing slash).
-->
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>usefirst API</title>
  <link rel="icon" href="data:,">
  <link rel="stylesheet" href="./swagger-ui.css">
  <link rel="stylesheet" href="./usefirst-docs.css">
</head>
<body>
  <header class="uf-header">usefirst API</header>
  <div id="swagger-ui"></div>
  <script src="./swagger-ui-bundle.js" charset="utf-8"></script>
  <script src="./usefirst-docs.js"></script>
</body>
</html>
HTML

echo "update-api-docs: swagger-ui-dist $installed -> $dest/"
ls -l "$dest" | tail -n +2
