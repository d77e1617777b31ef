#!/usr/bin/env bash
# Installs kubectl (with its built-in kustomize) so that the deploy tests can render
# deploy/ offline with `kubectl kustomize`. Idempotent: a second run does nothing.
#
# Where it comes from: Debian's own packages. Bookworm's `kubernetes-client` is kubectl 1.20,
# whose kustomize (2.0.3) predates kustomize Components, which deploy/ uses; Debian trixie
# ships `kubectl` 1.32 (kustomize 5.5) as a static-ish Go binary needing only libc >= 2.34.
# So the package is downloaded from trixie through a private apt state (the system's apt
# sources are not changed) and unpacked with dpkg-deb into a tools directory; nothing is
# installed system-wide.
#
# Usage:  bash scripts/install-kubectl.sh            # -> .cache/tools/bin/kubectl
#         PROMGATE_TOOLS_DIR=/opt/promgate-tools bash scripts/install-kubectl.sh
#         PROMGATE_TESTBED_MIRROR=http://my-mirror/debian bash scripts/install-kubectl.sh
# The deploy tests look for kubectl in $KUBECTL, then <repo>/.cache/tools/bin/kubectl, then PATH.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
tools="${PROMGATE_TOOLS_DIR:-$root/.cache/tools}"
bin="$tools/bin/kubectl"
# Suites tried in order: trixie is Debian stable (fixed versions); sid only as a fallback.
suites=(trixie sid)
mirror="${PROMGATE_TESTBED_MIRROR:-http://deb.debian.org/debian}"

# kubectl must carry kustomize >= 4 (Components arrived in kustomize 3.7; kubectl 1.21 ships 4.0.5).
usable() {
  local v
  v="$("$1" version --client -o json 2>/dev/null | sed -n 's/.*"kustomizeVersion": *"v\([0-9]*\)\..*/\1/p')" || return 1
  [ -n "$v" ] && [ "$v" -ge 4 ]
}

if [ -x "$bin" ] && usable "$bin"; then
  echo "install-kubectl: already installed: $bin ($("$bin" version --client 2>/dev/null | head -1))"
  exit 0
fi

if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
  echo "install-kubectl: apt-get and dpkg-deb are needed (Debian/Ubuntu)." >&2
  echo "  Elsewhere install kubectl >= 1.21 by your platform's means and set KUBECTL=/path/to/kubectl." >&2
  exit 1
fi
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
if [ ! -r "$keyring" ]; then
  echo "install-kubectl: $keyring is missing: apt-get install debian-archive-keyring" >&2
  exit 1
fi

state="$tools/apt"
mkdir -p "$state/etc/sources.list.d" "$state/etc/preferences.d" "$state/lists/partial" \
  "$state/cache/archives/partial" "$state/debs" "$tools/bin"
apt_opts=(
  -o "Dir::Etc::SourceList=$state/etc/sources.list"
  -o "Dir::Etc::SourceParts=$state/etc/sources.list.d"
  -o "Dir::Etc::Preferences=$state/etc/preferences"
  -o "Dir::Etc::PreferencesParts=$state/etc/preferences.d"
  -o "Dir::State::Lists=$state/lists"
  -o "Dir::State::status=$state/status"
  -o "Dir::Cache=$state/cache"
  -o "APT::Sandbox::User=root"
)
: >"$state/status"
rm -f "$state/debs"/kubectl_*.deb
downloaded=""
for s in "${suites[@]}"; do
  echo "deb [signed-by=$keyring] $mirror $s main" >"$state/etc/sources.list"
  echo "install-kubectl: fetching Debian $s package lists into $state"
  # apt-get download checks the .deb against the signed index (hash from the Release file).
  if apt-get "${apt_opts[@]}" -qq update &&
    (cd "$state/debs" && apt-get "${apt_opts[@]}" -qq download kubectl); then
    downloaded="$s"
    break
  fi
  echo "install-kubectl: kubectl not available from $s, trying the next suite" >&2
done
if [ -z "$downloaded" ]; then
  echo "install-kubectl: could not download Debian's kubectl package from: ${suites[*]}" >&2
  exit 1
fi

deb="$(ls "$state/debs"/kubectl_*.deb)"
extract="$state/extract"
rm -rf "$extract"
dpkg-deb -x "$deb" "$extract"
install -m 0755 "$extract/usr/bin/kubectl" "$bin.new"
mv -f "$bin.new" "$bin"
rm -rf "$state" # package lists and the .deb: ~100 MB not needed any more

if ! usable "$bin"; then
  echo "install-kubectl: $bin does not run or lacks kustomize >= 4" >&2
  exit 1
fi
echo "install-kubectl: installed $(basename "$deb") from Debian $downloaded as $bin"
"$bin" version --client
