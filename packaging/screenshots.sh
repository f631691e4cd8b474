#!/usr/bin/env bash
# Take the screenshot tour of a BUILT Cmfy Desk in the light and the dark theme, each on its own
# Xvfb screen with Qt's xcb platform. The tour shows the window in demo mode, two sample
# workflows dropped on it, the batch dialog, the queue, the finished batch, the gallery, the
# viewer with its metadata, and a gallery search with a batch filter. The program saves
# NN-STEP-THEME.png files into the output folder (see gui/cmfy_desk/ui/tour.py).
#
# Usage: packaging/screenshots.sh [PROGRAM] [OUT]
#   PROGRAM  the built program (default dist/cmfy-desk/cmfy-desk, from packaging/build.py)
#   OUT      the folder for the screenshots (default dist/screenshots)
# Exit status: 0 all screenshots taken, 1 a tour failed (its message names the step), 2 the
# program or Xvfb is missing. Needs Debian's xvfb, xauth, libxcb-icccm4 and libxcb-keysyms1.
set -euo pipefail
cd "$(dirname "$0")/.."

program="${1:-dist/cmfy-desk/cmfy-desk}"
out="${2:-dist/screenshots}"
tour_timeout=300  # seconds for one theme's tour, start-up included
screen="1600x1000x24"  # larger than the window (1200 x 800) and its dialogs
steps=9  # screenshots per theme, one per step of the tour (STEPS in gui/cmfy_desk/ui/tour.py)

if [ ! -x "$program" ]; then
    echo "screenshots: no built program at $program; run 'python packaging/build.py' first" >&2
    exit 2
fi
if ! command -v xvfb-run >/dev/null || ! command -v xauth >/dev/null; then
    echo "screenshots: xvfb-run or xauth is missing; install them with" \
        "'apt-get install xvfb xauth libxcb-icccm4 libxcb-keysyms1'" >&2
    exit 2
fi

mkdir -p "$out"
# Screenshots of an earlier run would hide a step that no longer saves one.
rm -f "$out"/[0-9][0-9]-*-light.png "$out"/[0-9][0-9]-*-dark.png \
    "$out"/[0-9][0-9]-*-light-failed.png "$out"/[0-9][0-9]-*-dark-failed.png

for theme in light dark; do
    echo "== tour in the $theme theme"
    # QT_QPA_PLATFORM=xcb: a real window on the X server, whatever the caller's environment
    # sets. -a picks a free display number, so parallel runs do not collide.
    if ! QT_QPA_PLATFORM=xcb timeout "$tour_timeout" \
        xvfb-run -a -s "-screen 0 $screen -nolisten tcp" \
        "$program" --tour "$out" --theme "$theme"; then
        echo "screenshots: the $theme tour failed; its message is above" >&2
        exit 1
    fi
    count="$(find "$out" -maxdepth 1 -name "[0-9][0-9]-*-$theme.png" -size +0 | wc -l)"
    if [ "$count" -ne "$steps" ]; then
        echo "screenshots: the $theme tour saved $count screenshots, expected $steps" >&2
        exit 1
    fi
done
echo "screenshots: $((2 * steps)) screenshots in $out"
