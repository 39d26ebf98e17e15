#!/usr/bin/env bash
# Makes sure a library exists with projects to try: the bundled English
# sample, and the corpus projects from ../shared/corpus when present.
# Prints the library path. Existing projects are left alone.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
library="${KDESK_LIBRARY:-${XDG_DATA_HOME:-$HOME/.local/share}/kalanjiyam-desk/library}"
mkdir -p "$library"

add_project() { # source-folder slug language title
  local source="$1" slug="$2" language="$3" title="$4"
  local target="$library/$slug"
  [ -e "$target" ] && return 0
  mkdir -p "$target/pages"
  find "$source" -maxdepth 1 -type f ! -name '*.gt.txt' ! -name 'project.toml' \
    -exec cp {} "$target/pages/" \;
  chmod -R u+w "$target"
  printf 'title = "%s"\nlanguage = "%s"\nengine = "tesseract"\n' "$title" "$language" \
    > "$target/project.toml"
}

add_project "$repo/samples/library/english-sample/pages" english-sample eng \
  "English sample: test page, eurotext, Huckleberry Finn p. 29"
corpus="${KDESK_CORPUS:-$repo/../shared/corpus}"
if [ -d "$corpus/projects" ]; then
  add_project "$corpus/projects/san-tulasi-scan/pages" san-tulasi-scan san "Tulasi-vivaha-vidhi (scan)"
  add_project "$corpus/projects/san-shreelipi-book/pages" san-shreelipi-book san "Sri Hanumat-stuti-manjari"
  add_project "$corpus/projects/tam-old-books/pages" tam-old-books tam "Old Tamil books, 1851-1950"
  add_project "$corpus/projects/en-mixed-scans/pages" en-mixed-scans eng "Mixed English scans"
fi
echo "$library"
