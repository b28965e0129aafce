#!/bin/sh
# Install the Debian packages p2pd needs to build and test, skipping those already present.
# Usage: contrib/install-deps.sh [--fuzz]   (--fuzz adds clang and libFuzzer)
set -e
PKGS="build-essential autoconf automake libtool pkg-config python3 \
libevent-dev libsecp256k1-dev libleveldb-dev zlib1g-dev libjansson-dev libsodium-dev libcmocka-dev"
[ "${1:-}" = "--fuzz" ] && PKGS="$PKGS clang libclang-rt-14-dev"

missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "Installing:$missing"
SUDO=""
if [ "$(id -u)" != 0 ]; then
	command -v sudo >/dev/null 2>&1 || { echo "need root (or sudo) to install:$missing" >&2; exit 1; }
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
