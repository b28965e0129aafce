#!/bin/bash
# Style and layering checks: every C file is clang-formatted, and every #include of a project
# header respects the layers of doc/design.md (a layer includes only itself and those below).
# Usage: contrib/devtools/check-style.sh [srcdir]
set -u
top="${1:-$(dirname "$0")/../..}"
cd "$top" || exit 1
fail=0

# Which project header directories each source directory may include.
allowed() {
	case "$1" in
	util) echo "util" ;;
	crypto) echo "util crypto" ;;
	wire) echo "util crypto wire" ;;
	net) echo "util crypto wire store net" ;;
	store) echo "util crypto store" ;;
	msg) echo "util crypto wire net store msg" ;;
	rpc) echo "util crypto wire net store msg rpc node/context.h" ;;
	node) echo "util crypto wire net store msg rpc node" ;;
	cli) echo "util crypto rpc/spec.h rpc/protocol.h cli" ;;
	*) echo "*" ;;
	esac
}

for f in $(find src include -name '*.[ch]' | sort); do
	layer=$(echo "$f" | cut -d/ -f2)
	case "$f" in src/*/*) ;; src/*.c) layer=main ;; esac
	ok=$(allowed "$layer")
	[ "$ok" = "*" ] && continue
	while IFS= read -r inc; do
		dir=${inc%%/*}
		good=0
		for a in $ok; do
			if [ "$a" = "$dir" ] || [ "$a" = "$inc" ]; then good=1; fi
		done
		if [ $good = 0 ]; then
			echo "layering: $f includes \"$inc\" (layer '$layer' may include: $ok)"
			fail=1
		fi
	done < <(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f" | grep / || true)
done

if command -v clang-format >/dev/null 2>&1; then
	for f in $(find src include test -name '*.[ch]' | sort); do
		if ! clang-format --dry-run -Werror "$f" >/dev/null 2>&1; then
			echo "format: $f is not clang-formatted (run: clang-format -i $f)"
			fail=1
		fi
	done
else
	echo "check-style: clang-format not installed; skipping the format check"
fi

[ $fail = 0 ] && echo "check-style: ok"
exit $fail
