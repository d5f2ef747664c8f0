#!/bin/sh
# Make headless Chromium and its WebDriver available for the browser tests (tests/test_browser.py).
# Installs the Debian packages `chromium` and `chromium-driver` with apt-get when
# /usr/bin/chromium is missing and apt-get can run (as root, or through passwordless sudo).
# Exit 0 when both are present afterwards, 1 otherwise (the tests then skip, or fail under CI=true).
set -u
if [ -x /usr/bin/chromium ] && { [ -x /usr/bin/chromedriver ] || command -v chromedriver >/dev/null 2>&1; }; then
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: apt-get not available; install chromium and chromium-driver yourself" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_chromium: not root and no passwordless sudo; run: apt-get install -y chromium chromium-driver" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
if [ -x /usr/bin/chromium ]; then
    exit 0
fi
echo "ensure_chromium: installation failed" >&2
exit 1
