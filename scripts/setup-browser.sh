#!/usr/bin/env bash
# Installs the browser the live view's test drives: Debian's chromium at /usr/bin/chromium.
# Run by `npm run setup:browser` and by test/view/view.e2e.test.ts when /usr/bin/chromium is missing.
# It never downloads a browser build of its own: only Debian's package, through apt-get.
set -euo pipefail

CHROMIUM=/usr/bin/chromium

if [ -x "$CHROMIUM" ]; then
  echo "setup-browser: $CHROMIUM is installed ($("$CHROMIUM" --version 2>/dev/null || echo 'version unknown'))"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: $CHROMIUM is missing and this system has no apt-get; install Chromium with your package manager so that $CHROMIUM exists" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
  else
    echo "setup-browser: $CHROMIUM is missing and installing it needs root: run 'sudo apt-get update && sudo apt-get install -y --no-install-recommends chromium' (or this script as root)" >&2
    exit 1
  fi
fi

echo "setup-browser: installing Debian's chromium (apt-get)"
export DEBIAN_FRONTEND=noninteractive
if ! $SUDO apt-get update -q; then
  echo "setup-browser: apt-get update failed; cannot install chromium" >&2
  exit 1
fi
if ! $SUDO apt-get install -y -q --no-install-recommends chromium; then
  echo "setup-browser: apt-get install chromium failed" >&2
  exit 1
fi
if [ ! -x "$CHROMIUM" ]; then
  echo "setup-browser: apt-get installed chromium but $CHROMIUM is still missing" >&2
  exit 1
fi
echo "setup-browser: installed $("$CHROMIUM" --version 2>/dev/null || echo "$CHROMIUM")"
