#!/usr/bin/env bash
# Build the Linux packages and check that they work. In a fresh venv under a temporary folder,
# this installs the project and PyInstaller and runs packaging/build.py. Then it unpacks the
# .tar.gz and the .deb (dpkg -x, never installed) and runs from each: --version, a headless
# sandbox run of a bundled workflow, and the window's --self-test on Qt's offscreen platform.
# Last, packaging/screenshots.sh takes the screenshot tour of the unpacked .tar.gz's program
# under Xvfb in the light and dark themes, into dist/screenshots (SCREENSHOTS=DIR to change).
#
# Usage: packaging/ci-check.sh [PYTHON]   (default python3; exit status 0 only if all passed)
# Takes about a minute and a half on 2 cores when the package index responds quickly. Needs
# Debian's xvfb, xauth, libxcb-icccm4 and libxcb-keysyms1 for the screenshots. Set KEEP_TMP=1
# to keep the temporary folder.
set -euo pipefail
cd "$(dirname "$0")/.."

python="${1:-python3}"
pyinstaller_requirement="pyinstaller==6.22.3"
step_timeout=120  # seconds for each run of the built program

tmp="$(mktemp -d -t cmfy-desk-packaging-XXXXXX)"
cleanup() {
    if [ "${KEEP_TMP:-0}" = 1 ]; then
        echo "Kept $tmp"
    else
        rm -rf "$tmp"
    fi
}
trap cleanup EXIT

fail() {
    echo "packaging check FAILED: $*" >&2
    exit 1
}

echo "== venv with the project and $pyinstaller_requirement in $tmp/venv"
"$python" -m venv "$tmp/venv"
"$tmp/venv/bin/python" -m pip install -q --upgrade pip
"$tmp/venv/bin/python" -m pip install -q . "$pyinstaller_requirement"
version="$("$tmp/venv/bin/python" -c 'from cmfy_desk import __version__; print(__version__)')"

echo "== build"
start=$SECONDS
"$tmp/venv/bin/python" packaging/build.py --out "$tmp/dist" --work "$tmp/work"
echo "build took $((SECONDS - start)) s"

tarball="$(ls "$tmp"/dist/cmfy-desk-"$version"-linux-*.tar.gz)"
deb="$(ls "$tmp"/dist/cmfy-desk_*.deb)"

# check_program NAME PROGRAM RESOURCES: the three runs, each with its own data folder.
check_program() {
    local name="$1" program="$2" resources="$3"
    local data="$tmp/run-$name"
    echo "== $name: $program"

    local printed
    printed="$(timeout "$step_timeout" "$program" --version)" || fail "$name: --version failed"
    [ "$printed" = "cmfy-desk $version" ] || fail "$name: --version printed '$printed'"

    local workflow
    workflow="$(ls "$resources"/workflows/*.json | head -n 1)"
    [ -f "$workflow" ] || fail "$name: no bundled workflow under $resources/workflows"
    timeout "$step_timeout" "$program" run --sandbox --speed 50 --data-dir "$data/run" \
        --out "$data/out" "$workflow" || fail "$name: the headless run failed"
    find "$data/out" -name '*.png' -size +0 | grep -q . || fail "$name: the run wrote no image"

    "$program" --help | grep -q -- "--self-test" ||
        fail "$name: cmfy-desk has no --self-test option (see packaging/README.md)"
    QT_QPA_PLATFORM=offscreen timeout "$step_timeout" "$program" --self-test \
        --data-dir "$data/self-test" || fail "$name: the self-test failed"
}

mkdir "$tmp/tar"
tar -xzf "$tarball" -C "$tmp/tar"
tar_app="$tmp/tar/cmfy-desk-$version"
check_program tar.gz "$tar_app/cmfy-desk" "$tar_app/_internal/cmfy_desk/resources"

dpkg-deb -x "$deb" "$tmp/root"
check_program deb "$tmp/root/usr/bin/cmfy-desk" \
    "$tmp/root/opt/cmfy-desk/_internal/cmfy_desk/resources"

echo "== deb contents"
for file in usr/share/applications/cmfy-desk.desktop usr/share/mime/packages/cmfy-desk.xml \
    usr/share/icons/hicolor/scalable/apps/cmfy-desk.svg \
    usr/share/icons/hicolor/256x256/apps/cmfy-desk.png; do
    [ -s "$tmp/root/$file" ] || fail "deb: $file is missing"
done
if command -v desktop-file-validate >/dev/null; then
    desktop-file-validate "$tmp/root/usr/share/applications/cmfy-desk.desktop" ||
        fail "deb: the desktop entry is not valid"
fi
dpkg-deb --field "$deb" Depends | grep -q libxcb-cursor0 || fail "deb: Depends lacks libxcb-cursor0"

echo "== shared libraries: nothing in the build links a Qt or Python library it lacks"
# Libraries of the system (EGL, Wayland...) may be absent on a CI image without harm: they
# are the .deb's Depends. A missing Qt, PySide or Python library means the spec left out one
# that a kept plugin or module needs.
not_found="$(find "$tar_app" -type f -name '*.so*' -exec ldd {} + 2>/dev/null |
    grep 'not found' | sort -u || true)"
if [ -n "$not_found" ]; then
    echo "libraries not found on this system (the .deb depends on them):"
    echo "$not_found"
fi
if echo "$not_found" | grep -E -q 'lib(Qt6|pyside6|shiboken6|python3)'; then
    fail "the build lacks a library it links"
fi

echo "== screenshot tour of the built program under Xvfb"
screenshots="${SCREENSHOTS:-dist/screenshots}"
packaging/screenshots.sh "$tar_app/cmfy-desk" "$screenshots" ||
    fail "the screenshot tour failed (its message is above)"

ls -l "$tmp/dist"
echo "packaging check passed: $(basename "$tarball"), $(basename "$deb"), screenshots in $screenshots"
