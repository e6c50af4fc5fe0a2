#!/usr/bin/env bash
# Debian packages that printing and its tests need: Graphviz (diagrams), a CJK font and
# Pango (WeasyPrint's PDF), Poppler (pdftotext, pdffonts, pdftoppm), Chromium (HTML; with chromium-driver,
# the console's browser tests) and
# PostgreSQL (the service's tests start a throw-away server), curl and jq (its documented walk-through).
# Installs what is missing when run as root with apt-get; otherwise says what to install.
set -euo pipefail
packages=(graphviz fonts-noto-cjk libpango-1.0-0 libpangoft2-1.0-0 poppler-utils chromium chromium-driver postgresql curl jq)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: printing needs these Debian packages: ${missing[*]}" >&2
  echo "      install them with: sudo apt-get install ${missing[*]}" >&2
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
