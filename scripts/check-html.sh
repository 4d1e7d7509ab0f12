#!/usr/bin/env bash
# Load report.html (and index.html) in headless Chromium (Debian `chromium`):
# no console errors, no network requests, the key elements present, and a
# screenshot under target/ (never committed).
#
# Usage: scripts/check-html.sh [REPORT_DIR]
#   Without REPORT_DIR, scans the bundled sample into target/check-html/
#   (two names for it, so index.html is checked too).
# Needs: apt-get install -y chromium
set -euo pipefail
cd "$(dirname "$0")/.."
browser=$(command -v chromium || command -v chromium-browser || true)
[ -n "$browser" ] || { echo "chromium not found: apt-get install -y chromium" >&2; exit 2; }

work=target/check-html
mkdir -p "$work"
if [ $# -ge 1 ]; then
  dir=$1; index_dir=""
else
  cargo build -q
  img=target/check-html/evidence/docker-host.img
  if [ ! -f "$img" ]; then
    mkdir -p "$(dirname "$img")"
    gzip -dc testdata/docker/docker-host.img.gz > "$img.tmp" && mv "$img.tmp" "$img"
  fi
  ln -sf docker-host.img target/check-html/evidence/second-host.img
  rm -rf "$work/out"
  target/debug/whiteout scan "$img" target/check-html/evidence/second-host.img \
    -o "$work/out" --no-hash --quiet || [ $? -eq 3 ]
  dir=$work/out/docker-host.img; index_dir=$work/out
fi

flags=(--headless --no-sandbox --disable-gpu --disable-background-networking
  --disable-component-update --disable-default-apps --disable-extensions
  --disable-sync --no-first-run --no-default-browser-check --mute-audio
  --host-resolver-rules="MAP * ~NOTFOUND, EXCLUDE localhost"
  --enable-logging=stderr --log-level=0 --v=0
  --user-data-dir="$work/profile" --virtual-time-budget=5000)

fail=0
# Console messages are logged as `...:INFO:CONSOLE:line] "text", source: ...`
# (older builds: `CONSOLE(line)`);
# a CSP violation (any network request) is logged there too.
check_page() { # file, screenshot name, required ids...
  local page=$1 shot=$2; shift 2
  local url="file://$(realpath "$page")"
  local dom="$work/$shot.dom.html" log="$work/$shot.console.log"
  "$browser" "${flags[@]}" --dump-dom "$url" > "$dom" 2> "$log" || true
  local errors
  errors=$(grep -E 'CONSOLE[:(]|Uncaught|Content Security Policy|ERR_NAME_NOT_RESOLVED' "$log" || true)
  if [ -n "$errors" ]; then
    echo "FAIL $page: console errors:"; echo "$errors" | head -20; fail=1
  else
    echo "ok   $page: no console errors"
  fi
  for id in "$@"; do
    if grep -q "id=\"$id\"" "$dom"; then echo "ok   $page: #$id present"
    else echo "FAIL $page: #$id missing"; fail=1; fi
  done
  "$browser" "${flags[@]}" --window-size=1280,2400 --hide-scrollbars \
    --screenshot="$work/$shot.png" "$url" 2>/dev/null || true
  if [ -s "$work/$shot.png" ]; then echo "ok   screenshot $work/$shot.png"
  else echo "FAIL $page: no screenshot"; fail=1; fi
}

# The check must be able to fail: a page with a script error is caught.
printf '<!DOCTYPE html><html><body><p id="x">x</p><script>notDefined();</script></body></html>' \
  > "$work/selftest.html"
"$browser" "${flags[@]}" --dump-dom "file://$(realpath "$work/selftest.html")" \
  > /dev/null 2> "$work/selftest.log" || true
if grep -qE 'CONSOLE[:(]|Uncaught' "$work/selftest.log"; then
  echo "ok   self-test: a script error is detected"
else
  echo "FAIL self-test: this chromium does not log console errors; the check would be blind"; fail=1
fi
# ... and so is a network request blocked by a CSP like the report's.
printf '%s' '<!DOCTYPE html><html><head><meta http-equiv="Content-Security-Policy" content="default-src '"'"'none'"'"'"></head><body><img src="http://example.com/x.png"></body></html>' \
  > "$work/selftest-net.html"
"$browser" "${flags[@]}" --dump-dom "file://$(realpath "$work/selftest-net.html")" \
  > /dev/null 2> "$work/selftest-net.log" || true
if grep -q 'Content Security Policy' "$work/selftest-net.log"; then
  echo "ok   self-test: a network request is detected"
else
  echo "FAIL self-test: a blocked network request was not logged"; fail=1
fi

check_page "$dir/report.html" report summary findings containers block-map-svg \
  timeline-svg timeline-all-svg deleted-table custody warnings notes \
  owners-table carved-table
# The new sections hold what report.json holds: one row per owner, per
# carved file, per deleted row (runtime bookkeeping folded apart), and the
# carved files attributed to each container in its section.
python3 scripts/check-html-rows.py "$dir/report.json" "$work/report.dom.html" || fail=1
# The sortable tables' script ran: clicking a header sorts (no error above),
# and every container has its own section.
grep -q 'id="container-' "$work/report.dom.html" || { echo "FAIL no container sections"; fail=1; }
if [ -n "${index_dir:-}" ]; then
  check_page "$index_dir/index.html" index summary images-table deletions-table
fi
[ $fail -eq 0 ] && echo "check-html: all checks passed" || echo "check-html: FAILED"
exit $fail
