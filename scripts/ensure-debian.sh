#!/usr/bin/env bash
# Installs the Debian packages the test suite and benchmarks drive, when they are missing.
# Usage: scripts/ensure-debian.sh [package ...]   (default: what the test suite needs)
# Each package is checked by the command it provides; nothing is installed when all are present.
set -euo pipefail

declare -A PROVIDES=(
  [sip-tester]=sipp
  [kamailio]=kamailio
  [redis-server]=redis-server
  [tshark]=tshark
  [lua5.4]=lua5.4
  [dnsmasq-base]=dnsmasq
  [iproute2]=ip
  [nftables]=nft
)

wanted=("$@")
[ ${#wanted[@]} -eq 0 ] && wanted=(sip-tester)

missing=()
for pkg in "${wanted[@]}"; do
  cmd=${PROVIDES[$pkg]:-}
  if [ -n "$cmd" ] && command -v "$cmd" >/dev/null 2>&1; then continue; fi
  if [ -z "$cmd" ] && dpkg -s "$pkg" >/dev/null 2>&1; then continue; fi
  missing+=("$pkg")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  SUDO=sudo
else
  SUDO=
fi
echo "ensure-debian: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
# The package lists may be absent or stale on a fresh machine.
$SUDO apt-get update -qq >/dev/null 2>&1 || $SUDO apt-get update
$SUDO apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
