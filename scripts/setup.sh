#!/usr/bin/env bash
# Installs the Debian packages genc needs (TOOLCHAIN.md), skipping what is
# already installed. Needs root (or sudo) only when something is missing.
set -euo pipefail

packages=(libyaml-dev libopenblas-dev libpng-dev zlib1g-dev pkg-config dataset-fashion-mnist fortunes graphviz)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all Debian packages present"
  exit 0
fi

echo "setup: installing ${missing[*]}"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
$sudo apt-get update -q
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
