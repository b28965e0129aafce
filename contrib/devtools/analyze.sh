#!/usr/bin/env bash
# Static analysis: cppcheck and clang-tidy (checks in .clang-tidy) over src/. Exits non-zero on
# any finding. Each finding is fixed, or explained where it is silenced (a cppcheck-suppress or
# NOLINT comment on the line, saying why it is a false positive). Needs a configured build
# directory for config.h: analyze.sh [builddir] (default: build).
set -euo pipefail
cd "$(dirname "$0")/../.."
builddir=${1:-build}
[ -f "$builddir/config.h" ] || { echo "analyze.sh: no $builddir/config.h (configure first)" >&2; exit 2; }
status=0

echo "cppcheck $(cppcheck --version | sed 's/Cppcheck //')"
if ! cppcheck --enable=warning,performance,portability --inline-suppr --quiet --error-exitcode=1 \
	-I include --std=c11 src; then
	status=1
fi

echo "clang-tidy $(clang-tidy --version | sed -n 's/.*LLVM version //p')"
out=$(mktemp)
trap 'rm -f "$out"' EXIT
git ls-files 'src/*.c' | xargs -P "$(nproc)" -I{} \
	clang-tidy -quiet {} -- -std=gnu11 -DHAVE_CONFIG_H -Iinclude -I"$builddir" >"$out" 2>/dev/null || true
if grep -E "(warning|error):" "$out"; then
	status=1
fi
[ $status -eq 0 ] && echo "analyze.sh: no findings"
exit $status
