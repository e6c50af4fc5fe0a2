#!/usr/bin/env bash
# Debian packages that printing and its tests need: Graphviz (diagrams), a CJK font and
# Pango (WeasyPrint's PDF), Poppler (pdftotext, pdffonts, pdftoppm), Chromium (HTML; with
# chromium-driver, the console's browser tests),
# PostgreSQL (the service's tests start a throw-away server), curl and jq (its documented walk-through).
# Says what it will install and roughly how big before it starts; installs what is missing
# when run as root with apt-get, otherwise says what to install. The demo needs none of it.
set -euo pipefail
packages=(graphviz fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium
          chromium-driver postgresql curl jq)
# rough installed sizes with their dependencies, for the notice below
declare -A about=([graphviz]="~15 MB" [fonts-noto-cjk]="~90 MB" [libpango-1.0-0]="~2 MB"
                  [libpangoft2-1.0-0]="~1 MB" [poppler-utils]="~6 MB" [chromium]="~300 MB" [chromium-driver]="~15 MB"
                  [postgresql]="~60 MB" [curl]="~1 MB" [jq]="~1 MB")
declare -A why=([graphviz]="diagrams" [fonts-noto-cjk]="Chinese text in the PDF"
                [libpango-1.0-0]="PDF (WeasyPrint)" [libpangoft2-1.0-0]="PDF (WeasyPrint)"
                [poppler-utils]="tests read the PDF" [chromium]="tests render the HTML"
                [chromium-driver]="the console's browser tests"
                [postgresql]="the service's tests" [curl]="the service's walk-through test"
                [jq]="the service's walk-through test")
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "printing and its tests need these Debian packages (sizes installed, roughly):" >&2
for package in "${missing[@]}"; do
  printf '  %-20s %-8s %s\n' "$package" "${about[$package]}" "${why[$package]}" >&2
done
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
echo "installing them with apt-get (Chromium alone is about 300 MB) ..." >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
