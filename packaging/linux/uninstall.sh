#!/usr/bin/env bash
# Remove what packaging/linux/install.sh installed (its manifest /usr/lib/dakoku/installed-files lists it):
# the service is stopped and disabled, the files and the directories it created go. The kiosk's data
# (/var/lib/dakoku: the ledger with any punches not yet sent, keys, logs) and the `dakoku` user stay
# unless --purge is given. pcscd stays enabled (other software may use it).
#
#   sudo packaging/linux/uninstall.sh [--purge]
#   packaging/linux/uninstall.sh --root /tmp/image | --dry-run
set -euo pipefail

ROOT="" DRY_RUN=0 PURGE=0
MANIFEST=/usr/lib/dakoku/installed-files
while [ $# -gt 0 ]; do
  case "$1" in
    --root) ROOT=$(realpath -m "$2"); shift 2 ;;
    --dry-run) DRY_RUN=1; shift ;;
    --purge) PURGE=1; shift ;;
    -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "uninstall.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$ROOT" ] && [ "$DRY_RUN" -eq 0 ] && [ "$(id -u)" -ne 0 ]; then
  echo "uninstall.sh: run as root (or use --root DIR / --dry-run)" >&2; exit 1
fi
say() { echo "uninstall.sh: $*"; }
system() {
  if [ "$DRY_RUN" -eq 1 ]; then say "would run: $*"; elif [ -n "$ROOT" ]; then say "skipped (--root): $*"; else "$@"; fi
}
remove() {   # remove KIND PATH
  local kind=$1 path=$ROOT$2
  if [ "$DRY_RUN" -eq 1 ]; then say "would remove $2"; return; fi
  case "$kind" in
    f) rm -f "$path" ;;
    t) rm -rf "$path" ;;
    d) [ -d "$path" ] && rmdir --ignore-fail-on-non-empty "$path" ;;
  esac
}

if [ -z "$ROOT" ] && [ "$DRY_RUN" -eq 0 ]; then
  systemctl disable --now dakoku-kiosk.service 2>/dev/null || true
else
  system systemctl disable --now dakoku-kiosk.service
fi
if [ ! -f "$ROOT$MANIFEST" ]; then
  say "nothing installed ($MANIFEST not found)"
else
  mapfile -t entries < "$ROOT$MANIFEST"
  for entry in "${entries[@]}"; do   # files and trees first
    case "$entry" in f\ *|t\ *) remove "${entry%% *}" "${entry#* }" ;; esac
  done
  for entry in $(printf '%s\n' "${entries[@]}" | sed -n 's/^d //p' | sort -r); do   # deepest directory first
    remove d "$entry"
  done
fi
system systemctl daemon-reload
system udevadm control --reload-rules
if [ "$PURGE" -eq 1 ]; then
  if [ "$DRY_RUN" -eq 1 ]; then say "would remove /var/lib/dakoku"; else rm -rf "$ROOT/var/lib/dakoku"; fi
  system userdel dakoku
fi
say "done${ROOT:+ (from $ROOT)}"
