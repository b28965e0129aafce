#!/bin/sh
# The README's two commands. On a fresh Debian 12 machine:
#   contrib/quickstart.sh run [p2pd options]   install what is missing, build, run p2pd
#   contrib/quickstart.sh test                 install what is missing, build, run every test
# The build goes to ./build (an out-of-tree autotools build).
set -e
cd "$(dirname "$0")/.."
mode="${1:-}"
[ $# -gt 0 ] && shift

build() {
	sh contrib/install-deps.sh
	[ -x configure ] || ./autogen.sh
	mkdir -p build
	if [ ! -f build/Makefile ]; then
		(cd build && ../configure --enable-werror "$@")
	fi
	make -C build -j"$(nproc)"
}

case "$mode" in
run)
	build
	exec build/src/p2pd "$@"
	;;
test)
	build
	make -C build -j"$(nproc)" check
	make -C build check-functional FUNCTIONAL_ARGS="-j $(nproc)"
	;;
*)
	echo "usage: $0 run [p2pd options] | test" >&2
	exit 2
	;;
esac
