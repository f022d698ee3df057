#!/usr/bin/env bash
# Native app smoke test under Xvfb: run lrpscope-app for a number of frames, take a screenshot, dump its state,
# and check both.  tests/app/native_smoke.sh APP OUT_DIR
set -euo pipefail
APP="$1"
OUT="$2"
mkdir -p "$OUT"
DISPLAY_NUM=$(( 90 + RANDOM % 400 ))
Xvfb ":$DISPLAY_NUM" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
XPID=$!
trap 'kill $XPID 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -e "/tmp/.X11-unix/X$DISPLAY_NUM" ] && break; sleep 0.1; done
STATE=$(DISPLAY=":$DISPLAY_NUM" timeout 120 "$APP" --frames 60 --screenshot "$OUT/native-app.png" --dump-state --sample fashion/ankle-boot-1)
echo "$STATE"
echo "$STATE" | grep -q '"predicted_label":"Ankle boot"' || { echo "unexpected prediction"; exit 1; }
echo "$STATE" | grep -q '"busy":false' || { echo "the explanation did not finish within 60 frames"; exit 1; }
echo "$STATE" | grep -q '"graph_nodes":36' || { echo "no graph"; exit 1; }
# the screenshot is not blank: many distinct colours
COLOURS=$(convert "$OUT/native-app.png" -format %k info:)
echo "screenshot: $OUT/native-app.png, $COLOURS colours"
[ "$COLOURS" -gt 200 ] || { echo "the screenshot looks blank"; exit 1; }
