#!/usr/bin/env bash
# Install the Dakoku kiosk appliance on Debian 12, Ubuntu 24.04 or Raspberry Pi OS (bookworm): packages,
# the `dakoku` system user, the kiosk session (Xorg + matchbox-window-manager), the system service with its
# watchdog, udev rules for PaSoRi readers and libfprint sensors, pcscd. Idempotent: a second run changes
# nothing. See packaging/README.md.
#
#   sudo packaging/linux/install.sh --bundle dist/dakoku-kiosk     # a PyInstaller build (kiosk.spec)
#   sudo packaging/linux/install.sh --kiosk /opt/dakoku/venv/bin/kiosk   # a kiosk installed with pip
#   packaging/linux/install.sh --root /tmp/image      # files only, into a staging root (no apt, no systemctl)
#   packaging/linux/install.sh --dry-run              # say what would be done, change nothing
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT="" DRY_RUN=0 BUNDLE="" KIOSK="" APT=1 START=0
MANIFEST=/usr/lib/dakoku/installed-files
APT_PACKAGES=(
  # the kiosk session: X without a desktop, a window manager without decorations, xset
  xserver-xorg-core xserver-xorg-input-libinput x11-xserver-utils matchbox-window-manager
  # Kivy's bundled SDL needs GL/EGL (Mesa) and these X libraries (docs: shared notes on Kivy)
  libgl1 libgl1-mesa-dri libegl1 libegl-mesa0 libgbm1 libmtdev1 libxrender1 libxi6 libxrandr2 libxcursor1
  libxss1 libxxf86vm1 libdbus-1-3
  # card readers (PC/SC) and fingerprint sensors (libfprint, with its udev hwdb)
  pcscd libccid libfprint-2-2
  # the service manager itself: always there on a booted system, missing from minimal images and containers
  # (systemd-sysusers creates the dakoku user)
  systemd
)

usage() { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(realpath -m "$2"); APT=0; shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --bundle) BUNDLE=$(realpath "$2"); shift 2 ;;
    --kiosk) KIOSK=$2; shift 2 ;;
    --no-apt) APT=0; shift ;;
    --start) START=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "install.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
[ -z "$BUNDLE" ] || [ -x "$BUNDLE/dakoku-kiosk" ] || { echo "install.sh: $BUNDLE/dakoku-kiosk not found" >&2; exit 2; }
if [ -z "$ROOT" ] && [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "install.sh: run as root (or use --root DIR / --dry-run)" >&2; exit 1
fi

[ -z "$ROOT" ] || [ "$DRY_RUN" -eq 1 ] || mkdir -p "$ROOT"
say() { echo "install.sh: $*"; }
# A command that changes the running system: skipped into a staging root, only printed in a dry run.
system() {
  if [ "$DRY_RUN" -eq 1 ]; then say "would run: $*"; elif [ -n "$ROOT" ]; then say "skipped (--root): $*"; else "$@"; fi
}

declare -a ENTRIES=()
if [ -f "$ROOT$MANIFEST" ]; then   # directories made by an earlier run stay ours
  while read -r kind path; do [ "$kind" = d ] && ENTRIES+=("d $path"); done < "$ROOT$MANIFEST"
fi
make_dir() {   # mkdir -p, remembering each directory this script created
  local dir=$1 missing=()
  while [ ! -d "$ROOT$dir" ] && [ "$dir" != / ]; do missing=("$dir" "${missing[@]}"); dir=$(dirname "$dir"); done
  for dir in "${missing[@]}"; do
    if [ "$DRY_RUN" -eq 1 ]; then say "would create $dir/"; else mkdir "$ROOT$dir"; fi
    ENTRIES+=("d $dir")
  done
}
put() {   # put SOURCE DEST MODE: install a file if its content or mode differs
  local source=$1 dest=$2 mode=$3
  make_dir "$(dirname "$dest")"
  ENTRIES+=("f $dest")
  if cmp -s "$source" "$ROOT$dest" && [ "$(stat -c %a "$ROOT$dest")" = "$mode" ]; then return; fi
  if [ "$DRY_RUN" -eq 1 ]; then say "would install $dest"; return; fi
  install -m "$mode" "$source" "$ROOT$dest"
  say "installed $dest"
}
STAGE=$(mktemp -d)   # generated files are written here first, then put in place (not in a pipeline's subshell)
trap 'rm -rf "$STAGE"' EXIT

distribution() {
  local os_release=${ROOT:-}/etc/os-release
  [ -f "$os_release" ] || os_release=/etc/os-release
  # shellcheck disable=SC1090
  ( . "$os_release"; echo "${ID:-unknown} ${VERSION_ID:-?}" )
}
case "$(distribution)" in
  "debian 12"|"raspbian 12"|"ubuntu 24.04") ;;
  *) say "warning: $(distribution) is not Debian 12, Ubuntu 24.04 or Raspberry Pi OS (bookworm); trying anyway" ;;
esac

if [ "$APT" -eq 1 ]; then
  missing=()
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    system apt-get update -q
    system env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
  fi
fi

# The kiosk program: a PyInstaller folder copied to /opt/dakoku/kiosk, or a kiosk command given by path.
if [ -n "$BUNDLE" ]; then
  KIOSK=/opt/dakoku/kiosk/dakoku-kiosk
  make_dir /opt/dakoku
  ENTRIES+=("t /opt/dakoku/kiosk")
  if [ -d "$ROOT/opt/dakoku/kiosk" ] && diff -rq "$BUNDLE" "$ROOT/opt/dakoku/kiosk" >/dev/null 2>&1; then :
  elif [ "$DRY_RUN" -eq 1 ]; then say "would copy $BUNDLE to /opt/dakoku/kiosk"
  else rm -rf "$ROOT/opt/dakoku/kiosk"; cp -a "$BUNDLE" "$ROOT/opt/dakoku/kiosk"; say "installed /opt/dakoku/kiosk"; fi
fi
if [ -n "$KIOSK" ] || [ ! -f "$ROOT/etc/dakoku/kiosk.env" ]; then
  {
    echo "# The kiosk command dakoku-kiosk.service runs (packaging/linux/install.sh --bundle / --kiosk)"
    echo "DAKOKU_KIOSK=${KIOSK:-/opt/dakoku/kiosk/dakoku-kiosk}"
  } > "$STAGE/kiosk.env"
  put "$STAGE/kiosk.env" /etc/dakoku/kiosk.env 644
else   # kept as the administrator left it
  make_dir /etc/dakoku
  ENTRIES+=("f /etc/dakoku/kiosk.env")
fi
[ -x "$ROOT${KIOSK:-/opt/dakoku/kiosk/dakoku-kiosk}" ] || [ -n "$ROOT" ] || [ "$DRY_RUN" -eq 1 ] ||
  say "warning: ${KIOSK:-/opt/dakoku/kiosk/dakoku-kiosk} does not exist yet (use --bundle or --kiosk)"

put "$HERE/dakoku.sysusers" /usr/lib/sysusers.d/dakoku.conf 644
put "$HERE/kiosk-session" /usr/lib/dakoku/kiosk-session 755
put "$HERE/dakoku-kiosk.service" /etc/systemd/system/dakoku-kiosk.service 644
put "$HERE/50-dakoku-kiosk.conf" /etc/X11/xorg.conf.d/50-dakoku-kiosk.conf 644
put "$HERE/95-dakoku-readers.rules" /etc/udev/rules.d/95-dakoku-readers.rules 644
put "$HERE/96-dakoku-usb-export.rules" /etc/udev/rules.d/96-dakoku-usb-export.rules 644
put "$HERE/../README.md" /usr/share/doc/dakoku/README.md 644

# Fingerprint sensors: the dakoku user opens them through libfprint. The USB IDs are libfprint's own, read from
# the udev hwdb its package installs (never copied here), so a newer libfprint brings its new sensors.
hwdb=${LIBFPRINT_HWDB:-}
for candidate in {/usr,}/lib/udev/hwdb.d/60-autosuspend-libfprint-2.hwdb; do
  [ -n "$hwdb" ] || { [ -f "$candidate" ] && hwdb=$candidate; }
done
if [ -n "$hwdb" ] && [ -f "$hwdb" ]; then
  {
    echo "# Generated by packaging/linux/install.sh from $hwdb (libfprint's supported sensors):"
    echo "# the kiosk user may open them. Re-run install.sh after a libfprint upgrade."
    echo 'ACTION!="add|change", GOTO="dakoku_fingerprint_end"'
    echo 'SUBSYSTEM!="usb", GOTO="dakoku_fingerprint_end"'
    awk '/^# Known unsupported devices/ { exit }
         /^usb:v[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]p[0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f][0-9A-Fa-f]\*$/ {
           printf "ATTR{idVendor}==\"%s\", ATTR{idProduct}==\"%s\", MODE=\"0660\", GROUP=\"dakoku\"\n",
                  tolower(substr($0, 6, 4)), tolower(substr($0, 11, 4)) }' "$hwdb"
    echo 'LABEL="dakoku_fingerprint_end"'
  } > "$STAGE/fingerprint.rules"
  put "$STAGE/fingerprint.rules" /etc/udev/rules.d/71-dakoku-fingerprint.rules 644
else
  say "libfprint's udev hwdb not found (apt install libfprint-2-2): no fingerprint sensor rules"
fi

# The manifest: what uninstall.sh removes (directories only if this script created them and they are empty).
make_dir "$(dirname "$MANIFEST")"
printf '%s\n' "${ENTRIES[@]}" "f $MANIFEST" | LC_ALL=C sort -u > "$STAGE/manifest"
put "$STAGE/manifest" "$MANIFEST" 644

system systemd-sysusers /usr/lib/sysusers.d/dakoku.conf
# Reloading needs a running udev and systemd; an image being built or a chroot has neither, and both read the
# new files at the next boot (enabling works without them).
if [ -n "$ROOT" ] || [ "$DRY_RUN" -eq 1 ] || [ -d /run/systemd/system ]; then
  system udevadm control --reload-rules
  system udevadm trigger --subsystem-match=usb --action=change
  system systemctl daemon-reload
else
  say "systemd is not running here (an image or a chroot): udev rules and the unit take effect at the next boot"
  START=0
fi
system systemctl enable pcscd.socket dakoku-kiosk.service
if [ -z "$ROOT" ] && [ "$DRY_RUN" -eq 0 ] && systemctl is-enabled --quiet display-manager.service 2>/dev/null; then
  say "warning: a display manager is enabled and may take tty7: systemctl disable display-manager.service"
fi
[ "$START" -eq 0 ] || system systemctl restart dakoku-kiosk.service
say "done${ROOT:+ (into $ROOT)}"
