#!/bin/sh
# Adds Workbench to this user's application menu (no root needed): the desktop entry, the icon
# in every size, and the AppStream metadata, under ${XDG_DATA_HOME:-~/.local/share}.
# Run it from the unpacked bundle:   ./workbench/share/linux/install-desktop-entry.sh
# Undo with:                         ./workbench/share/linux/install-desktop-entry.sh --uninstall
set -eu
APP_ID=io.github.workbench.Workbench
HERE=$(cd "$(dirname "$0")" && pwd)
BUNDLE=$(cd "$HERE/../.." && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DATA/applications/$APP_ID.desktop" "$DATA/metainfo/$APP_ID.metainfo.xml"
    rm -f "$DATA"/icons/hicolor/*/apps/"$APP_ID".png "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
    echo "Workbench removed from the application menu (the bundle itself is untouched)."
    exit 0
fi

if [ ! -x "$BUNDLE/workbench" ]; then
    echo "error: $BUNDLE/workbench not found; run this script from inside the bundle" >&2
    exit 2
fi

ICONS="$BUNDLE/_internal/resources/icons"
[ -d "$ICONS" ] || ICONS="$BUNDLE/resources/icons"
for png in "$ICONS"/workbench-*.png; do
    size=$(basename "$png" .png | sed 's/workbench-//')
    mkdir -p "$DATA/icons/hicolor/${size}x${size}/apps"
    cp "$png" "$DATA/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
mkdir -p "$DATA/icons/hicolor/scalable/apps" "$DATA/applications" "$DATA/metainfo"
cp "$ICONS/workbench.svg" "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
cp "$HERE/$APP_ID.metainfo.xml" "$DATA/metainfo/"
# The entry points at this bundle by its absolute path (Exec and TryExec).
sed -e "s|^Exec=workbench|Exec=\"$BUNDLE/workbench\"|" -e "s|^TryExec=workbench|TryExec=$BUNDLE/workbench|" \
    "$HERE/$APP_ID.desktop" > "$DATA/applications/$APP_ID.desktop"
command -v update-desktop-database >/dev/null 2>&1 && update-desktop-database -q "$DATA/applications" || true
command -v gtk-update-icon-cache >/dev/null 2>&1 && gtk-update-icon-cache -q -t "$DATA/icons/hicolor" || true
echo "Workbench added to the application menu ($DATA/applications/$APP_ID.desktop)."
