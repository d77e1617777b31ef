#!/usr/bin/env bash
# Installs promgate's end-to-end test bed on a Debian bookworm machine (run as root).
#
#   bash scripts/install-testbed.sh              # everything `npm test` needs
#   bash scripts/install-testbed.sh --demo-only  # only a Prometheus + promtool for `npm run demo`
#
# What it provides (and checks by running `--version`):
#   - Prometheus 2.42 + promtool from bookworm's `prometheus` package (/usr/bin), installed
#     with --no-install-recommends; the Debian service is never started.
#   - Prometheus 3.x + promtool from Debian sid's `prometheus` and `promtool` packages,
#     extracted with dpkg-deb into .cache/testbed/prometheus-3/ (usr/bin/prometheus,
#     usr/bin/promtool). The system's apt sources are NOT touched: a private apt
#     configuration lives in .cache/testbed/apt/ (sources.list, lists, cache, empty status).
#   - wrk, for the benchmark scripts.
#
# Idempotent: anything already present and working is kept, so a second run takes about a
# second. Fails with a non-zero exit and a message naming what is missing.
#
# Environment:
#   PROMGATE_TESTBED_SUITE   Debian suite for Prometheus 3.x (default: sid)
#   PROMGATE_TESTBED_MIRROR  Debian mirror URL (default: http://deb.debian.org/debian)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="$ROOT/.cache/testbed"
APT_DIR="$CACHE/apt"
P3_DIR="$CACHE/prometheus-3"
SUITE="${PROMGATE_TESTBED_SUITE:-sid}"
MIRROR="${PROMGATE_TESTBED_MIRROR:-http://deb.debian.org/debian}"
KEYRING=/usr/share/keyrings/debian-archive-keyring.gpg
export DEBIAN_FRONTEND=noninteractive

DEMO_ONLY=0
for arg in "$@"; do
  case "$arg" in
    --demo-only) DEMO_ONLY=1 ;;
    -h | --help)
      sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-testbed: unknown argument '$arg' (expected --demo-only or nothing)" >&2
      exit 2
      ;;
  esac
done

log() { printf '[testbed] %s\n' "$*" >&2; }
die() {
  printf '[testbed] ERROR: %s\n' "$*" >&2
  exit 1
}

# Prints the version reported by `<binary> --version` (e.g. "2.42.0+ds"), or nothing when the
# binary is missing or does not run. Both prometheus and promtool print
# "<name>, version X.Y.Z (branch: …)" on stdout (older builds on stderr).
version_of() {
  local bin="$1" out
  [[ -x "$bin" ]] || return 0
  out="$("$bin" --version 2>&1)" || return 0
  sed -n 's/^[a-z]*, version \([^ ]*\).*/\1/p' <<<"$out" | head -n 1
}

need_root() {
  [[ "$(id -u)" == 0 ]] || die "$1 needs root (apt-get); run: sudo bash scripts/install-testbed.sh$([[ $DEMO_ONLY == 1 ]] && echo ' --demo-only')"
}

# --- system packages (bookworm) -----------------------------------------------------------

# Debian's postinst would start the prometheus service through invoke-rc.d. Containers
# normally ship a policy-rc.d that forbids it (exit 101); if this machine has none, put one
# in place for the duration of the install and remove it again.
POLICY_RC=/usr/sbin/policy-rc.d
POLICY_RC_OURS=0
cleanup() {
  if [[ $POLICY_RC_OURS == 1 ]]; then rm -f "$POLICY_RC"; fi
}
trap cleanup EXIT

apt_candidate_missing() {
  local pkg policy
  for pkg in "$@"; do
    policy="$(apt-cache policy "$pkg" 2>/dev/null || true)"
    [[ $policy == *"Candidate: "[0-9]* ]] || return 0
  done
  return 1
}

install_system_packages() {
  local -a pkgs=("$@")
  need_root "installing ${pkgs[*]}"
  if apt_candidate_missing "${pkgs[@]}"; then
    log "apt-get update (no candidate yet for: ${pkgs[*]})"
    apt-get update -qq || die "apt-get update failed"
  fi
  if [[ ! -e $POLICY_RC ]]; then
    printf '#!/bin/sh\n# temporary, from promgate scripts/install-testbed.sh\nexit 101\n' >"$POLICY_RC"
    chmod 755 "$POLICY_RC"
    POLICY_RC_OURS=1
  fi
  log "apt-get install --no-install-recommends ${pkgs[*]}"
  apt-get install -y -qq --no-install-recommends "${pkgs[@]}" >/dev/null ||
    die "apt-get install ${pkgs[*]} failed"
  cleanup
  POLICY_RC_OURS=0
}

# If the Debian service got started anyway (a machine without policy-rc.d that runs init
# scripts), stop it through its own init script: tests start their own servers.
stop_debian_service() {
  local pidfile=/run/prometheus/prometheus.pid
  if [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    log "stopping the Debian prometheus service started by the package"
    if command -v invoke-rc.d >/dev/null && [[ -x /etc/init.d/prometheus ]]; then
      /etc/init.d/prometheus stop >/dev/null 2>&1 || true
    fi
    if kill -0 "$(cat "$pidfile" 2>/dev/null || echo 0)" 2>/dev/null; then
      die "the Debian prometheus service (pid $(cat "$pidfile")) is running; stop it (it would hold port 9090)"
    fi
  fi
}

V2_PROM=/usr/bin/prometheus
V2_TOOL=/usr/bin/promtool
P3_PROM="$P3_DIR/usr/bin/prometheus"
P3_TOOL="$P3_DIR/usr/bin/promtool"

v2_ok() { [[ "$(version_of $V2_PROM)" == 2.* && "$(version_of $V2_TOOL)" == 2.* ]]; }
v3_ok() { [[ "$(version_of "$P3_PROM")" == 3.* && "$(version_of "$P3_TOOL")" == 3.* ]]; }

# --- Prometheus 3.x from a newer Debian suite, via a private apt configuration -------------

APT_OPTS=(
  -o "Dir::Etc::SourceList=$APT_DIR/sources.list"
  -o "Dir::Etc::SourceParts=$APT_DIR/sources.list.d"
  -o "Dir::Etc::Preferences=$APT_DIR/preferences"
  -o "Dir::Etc::PreferencesParts=$APT_DIR/preferences.d"
  -o "Dir::State::Lists=$APT_DIR/lists"
  -o "Dir::State::status=$APT_DIR/status"
  -o "Dir::Cache=$APT_DIR/cache"
  -o "Dir::Cache::pkgcache=$APT_DIR/cache/pkgcache.bin"
  -o "Dir::Cache::srcpkgcache=$APT_DIR/cache/srcpkgcache.bin"
  -o "Acquire::Languages=none"
  # root downloading into a directory _apt cannot write: say so instead of warning about it
  -o "APT::Sandbox::User=root"
)

install_prometheus3() {
  [[ -r $KEYRING ]] || die "$KEYRING is missing (apt-get install debian-archive-keyring)"
  command -v dpkg-deb >/dev/null || die "dpkg-deb is missing"
  mkdir -p "$APT_DIR"/{sources.list.d,preferences.d,lists/partial,cache/archives/partial,debs}
  printf 'deb [signed-by=%s] %s %s main\n' "$KEYRING" "$MIRROR" "$SUITE" >"$APT_DIR/sources.list"
  : >"$APT_DIR/preferences"
  [[ -e $APT_DIR/status ]] || : >"$APT_DIR/status"

  log "apt-get update of the private $SUITE index in .cache/testbed/apt (system sources untouched)"
  apt-get "${APT_OPTS[@]}" -qq update >"$APT_DIR/update.log" 2>&1 ||
    die "private apt-get update for $SUITE failed:$(printf '\n%s' "$(tail -n 5 "$APT_DIR/update.log")")"

  log "apt-get download prometheus/$SUITE promtool/$SUITE"
  rm -f "$APT_DIR"/debs/*.deb
  (cd "$APT_DIR/debs" && apt-get "${APT_OPTS[@]}" -qq download "prometheus/$SUITE" "promtool/$SUITE") \
    >"$APT_DIR/download.log" 2>&1 ||
    die "apt-get download prometheus/$SUITE promtool/$SUITE failed:$(printf '\n%s' "$(tail -n 5 "$APT_DIR/download.log")")"

  local tmp="$P3_DIR.tmp" deb
  rm -rf "$tmp"
  mkdir -p "$tmp"
  for deb in "$APT_DIR"/debs/prometheus_*.deb "$APT_DIR"/debs/promtool_*.deb; do
    [[ -f $deb ]] || die "expected .deb not downloaded: $deb"
    dpkg-deb -x "$deb" "$tmp"
  done
  rm -rf "$P3_DIR"
  mv "$tmp" "$P3_DIR"
  # The sid index (~150 MB) is only needed to download; sid moves on anyway.
  rm -rf "$APT_DIR/lists" "$APT_DIR/cache"
}

# --- main -------------------------------------------------------------------------------

started=$SECONDS

if [[ $DEMO_ONLY == 1 ]]; then
  # The demo needs one Prometheus (2.x or 3.x) and its promtool.
  if ! v2_ok && ! v3_ok; then
    install_system_packages prometheus
    stop_debian_service
  fi
  if v2_ok; then
    log "demo: Prometheus $(version_of $V2_PROM) at $V2_PROM, promtool $(version_of $V2_TOOL)"
  elif v3_ok; then
    log "demo: Prometheus $(version_of "$P3_PROM") at $P3_PROM, promtool $(version_of "$P3_TOOL")"
  else
    die "no working Prometheus + promtool after install (expected $V2_PROM and $V2_TOOL)"
  fi
  log "done in $((SECONDS - started)) s"
  exit 0
fi

missing=()
v2_ok || missing+=(prometheus)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  install_system_packages "${missing[@]}"
fi
stop_debian_service

if ! v3_ok; then
  [[ "$(id -u)" == 0 ]] || need_root "fetching Prometheus 3.x"
  install_prometheus3
fi

# Verify every binary, loudly.
failed=0
check() {
  local name="$1" bin="$2" major="$3" v
  v="$(version_of "$bin")"
  if [[ $v == "$major".* ]]; then
    log "$(printf '%-14s %-12s %s' "$name" "$v" "$bin")"
  else
    printf '[testbed] ERROR: %s: %s does not run or is not %s.x (got "%s")\n' "$name" "$bin" "$major" "$v" >&2
    failed=1
  fi
}
check prometheus-2 $V2_PROM 2
check promtool-2 $V2_TOOL 2
check prometheus-3 "$P3_PROM" 3
check promtool-3 "$P3_TOOL" 3
# `wrk -v` prints "wrk 4.1.0 [epoll] …" and exits non-zero.
wrk_version="$( (wrk -v 2>&1 || true) | sed -n 's/^wrk \([^ ]*\).*/\1/p')"
if [[ -n $wrk_version ]]; then
  log "$(printf '%-14s %-12s %s' wrk "$wrk_version" "$(command -v wrk)")"
else
  printf '[testbed] ERROR: wrk is missing or does not run\n' >&2
  failed=1
fi
# kubectl (with kustomize >= 4) renders deploy/ offline for the deploy tests.
bash "$(dirname "${BASH_SOURCE[0]}")/install-kubectl.sh" || failed=1
((failed == 0)) || die "test bed incomplete (see above); rerun as root: bash scripts/install-testbed.sh"
log "test bed ready in $((SECONDS - started)) s"
