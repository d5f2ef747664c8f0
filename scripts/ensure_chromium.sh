#!/bin/sh
# Make headless Chromium and its WebDriver available for the browser tests (tests/test_browser.py).
# A browser already on PATH (chromium, chromium-browser, google-chrome, google-chrome-stable)
# with chromedriver on PATH is used as it is: no root, no apt. Only when one is missing does
# it try the Debian packages `chromium` and `chromium-driver` with apt-get (as root, or through
# passwordless sudo). Exit 0 when both are present afterwards; 1 otherwise, with a line saying
# that the browser tests will be skipped (they fail instead under CI=true).
set -u
SKIP="ensure_chromium: the browser tests (tests/test_browser.py) will be SKIPPED"
find_browser() {
    for b in chromium chromium-browser google-chrome google-chrome-stable; do
        if command -v "$b" >/dev/null 2>&1; then command -v "$b"; return 0; fi
    done
    return 1
}
if browser=$(find_browser) && driver=$(command -v chromedriver 2>/dev/null); then
    echo "ensure_chromium: using $browser with $driver" >&2
    exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
    echo "ensure_chromium: no headless Chromium and chromedriver on PATH and no apt-get; install them yourself. $SKIP" >&2
    exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
    SUDO=""
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    SUDO="sudo -n"
else
    echo "ensure_chromium: no Chromium and chromedriver on PATH, and installing them needs root: apt-get install -y chromium chromium-driver. $SKIP" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >&2 && $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >&2
if find_browser >/dev/null && command -v chromedriver >/dev/null 2>&1; then
    exit 0
fi
echo "ensure_chromium: installation failed. $SKIP" >&2
exit 1
