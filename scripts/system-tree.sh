#!/usr/bin/env bash
# Builds (once) and prints the path of a minimal Debian 12 tree that boots systemd in
# systemd-nspawn, for the system test (tests/system/). It is made by debootstrap from the mirror
# apt already uses on this host (the first http(s) URI of /etc/apt/sources.list*) and cached
# outside the source tree, in ${EDD_SYSTEM_TREE:-~/.cache/etcd-defragd/debootstrap-bookworm}.
# The cached tree is never modified afterwards: the test boots a copy of it.
#   scripts/system-tree.sh            build if missing, print the path
#   scripts/system-tree.sh --rebuild  build again (e.g. to pick up Debian point releases)
set -euo pipefail

tree=${EDD_SYSTEM_TREE:-${HOME:-/root}/.cache/etcd-defragd/debootstrap-bookworm}
# Bumped when the contents below change, so an old cache is rebuilt rather than used.
stamp_text="edd-system-tree v1: bookworm minbase + systemd systemd-sysv"

mkdir -p "$(dirname "$tree")"
# One builder at a time (scripts/test.sh starts one in the background, the system test asks too);
# the second waits and then finds the tree made.
exec 9>"$tree.lock"
flock 9
if [ "${1:-}" = --rebuild ]; then
  rm -rf "$tree"
elif [ $# -gt 0 ]; then
  echo "system-tree.sh: unknown argument '$1'; use --rebuild or nothing" >&2
  exit 2
fi
if [ -f "$tree/.edd-tree" ] && [ "$(cat "$tree/.edd-tree")" = "$stamp_text" ]; then
  echo "$tree"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "system-tree.sh: debootstrap needs root" >&2
  exit 1
fi
command -v debootstrap >/dev/null ||
  { echo "system-tree.sh: debootstrap not installed (scripts/install-deps.sh)" >&2; exit 1; }

# The mirror apt is configured with: deb822 "URIs:" lines or one-line "deb URI suite" entries,
# the first one that serves Debian proper (not -security, not a third-party repository).
mirror=$(
  {
    grep -hs '^URIs:' /etc/apt/sources.list.d/*.sources | awk '{print $2}' || true
    grep -hs '^deb ' /etc/apt/sources.list /etc/apt/sources.list.d/*.list |
      sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}' || true
  } | { grep -E '^https?://[^ ]+/debian/?$' || true; } | head -n 1
)
if [ -z "$mirror" ]; then
  echo "system-tree.sh: no Debian mirror (…/debian) in /etc/apt/sources.list*" >&2
  exit 1
fi

rm -rf "$tree.partial"
echo "system-tree.sh: debootstrap bookworm from $mirror into $tree (once; about 1-2 min)" >&2
start=$SECONDS
if ! debootstrap --variant=minbase --include=systemd,systemd-sysv bookworm "$tree.partial" \
  "$mirror" >"$tree.partial.log" 2>&1; then
  tail -n 20 "$tree.partial.log" >&2
  echo "system-tree.sh: debootstrap failed (log: $tree.partial.log)" >&2
  exit 1
fi
# apt inside the container resolves the .deb's dependencies against the same mirror.
cat >"$tree.partial/etc/apt/sources.list" <<EOF
deb $mirror bookworm main
deb $mirror bookworm-updates main
EOF
# debootstrap copied the build host's name; the container gets its own (--hostname) instead.
rm -f "$tree.partial/etc/hostname"
# An empty machine-id: systemd makes a fresh one at each boot of a copy.
: >"$tree.partial/etc/machine-id"
rm -rf "$tree.partial/var/cache/apt/archives"/*.deb
echo "$stamp_text" >"$tree.partial/.edd-tree"
rm -rf "$tree"
mv "$tree.partial" "$tree"
rm -f "$tree.partial.log"
echo "system-tree.sh: built in $((SECONDS - start)) s, $(du -sh "$tree" | cut -f1)" >&2
echo "$tree"
