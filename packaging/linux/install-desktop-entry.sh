#!/bin/sh
# Adds Workbench to this user's application menu (no root needed): the desktop entry, the icon
# in every size, and the AppStream metadata, under ${XDG_DATA_HOME:-~/.local/share}.
# Run it from the unpacked bundle:   workbench/share/linux/install-desktop-entry.sh
# Undo with:                         workbench/share/linux/install-desktop-entry.sh --uninstall
# Running it again after moving the bundle points the menu entry at the new place.
set -eu
APP_ID=io.github.workbench.Workbench
HERE=$(cd "$(dirname "$0")" && pwd)
DATA=${XDG_DATA_HOME:-$HOME/.local/share}

refresh_caches() {
    if command -v update-desktop-database >/dev/null 2>&1; then
        update-desktop-database -q "$DATA/applications" 2>/dev/null || true
    fi
    if command -v gtk-update-icon-cache >/dev/null 2>&1; then
        gtk-update-icon-cache -q -t "$DATA/icons/hicolor" 2>/dev/null || true
    fi
}

if [ "${1:-}" = "--uninstall" ]; then
    rm -f "$DATA/applications/$APP_ID.desktop" "$DATA/metainfo/$APP_ID.metainfo.xml"
    rm -f "$DATA"/icons/hicolor/*/apps/"$APP_ID".png "$DATA/icons/hicolor/scalable/apps/$APP_ID.svg"
    refresh_caches
    echo "Workbench removed from the application menu (the bundle itself is untouched)."
    exit 0
fi

# The bundle's root is the first folder above this script that holds the workbench executable
# (share/linux/ sits at the root; PyInstaller's own layout puts it under _internal/).
BUNDLE=$HERE
while :; do
    if [ -f "$BUNDLE/workbench" ] && [ -x "$BUNDLE/workbench" ]; then
        break
    fi
    if [ "$BUNDLE" = "/" ]; then
        echo "error: no workbench executable above $HERE; run this script from inside the bundle" >&2
        exit 2
    fi
    BUNDLE=$(dirname "$BUNDLE")
done
EXE="$BUNDLE/workbench"
case "$EXE" in
    *\"* | *\`* | *\$* | *\\*)
        echo "error: the bundle's path contains \", \`, \$ or \\, which a desktop entry cannot" \
             "name reliably; move the bundle to a plainer folder: $BUNDLE" >&2
        exit 2 ;;
esac

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

# The entry names this bundle by its absolute path; % is doubled as the desktop entry spec asks.
EXEC_PATH=$(printf '%s' "$EXE" | sed 's/%/%%/g')
ENTRY="$DATA/applications/$APP_ID.desktop"
: > "$ENTRY.tmp"
while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in
        Exec=workbench*) printf 'Exec="%s"%s\n' "$EXEC_PATH" "${line#Exec=workbench}" ;;
        TryExec=workbench) printf 'TryExec=%s\n' "$EXE" ;;
        *) printf '%s\n' "$line" ;;
    esac >> "$ENTRY.tmp"
done < "$HERE/$APP_ID.desktop"
mv "$ENTRY.tmp" "$ENTRY"
refresh_caches
echo "Workbench added to the application menu ($ENTRY)."
