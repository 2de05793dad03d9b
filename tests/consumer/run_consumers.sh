#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and runs the consumer projects: find_package() against an installed QtAio (with a QML
# file importing QtAio from the installed tree), and add_subdirectory() of the source tree.
# Usage: run_consumers.sh SOURCE_DIR BUILD_DIR WORK_DIR
set -euo pipefail
src="$1" build="$2" work="$3"
rm -rf "$work"
mkdir -p "$work"
launcher=()
if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi

echo "== install into $work/prefix"
cmake --install "$build" --prefix "$work/prefix" >/dev/null

echo "== find_package consumer"
cmake -S "$src/tests/consumer/find-package" -B "$work/find-package" -G Ninja \
    -DCMAKE_PREFIX_PATH="$work/prefix" "${launcher[@]}" >/dev/null
cmake --build "$work/find-package"
"$work/find-package/consumer"
qml_dir="$(find "$work/prefix" -name qmldir -path '*QtAio*' -printf '%h\n' | head -1)"
[ -n "$qml_dir" ] || { echo "no installed QML module"; exit 1; }
QML_IMPORT_PATH="$(dirname "$qml_dir")" "$work/find-package/consumer" \
    --qml "$src/tests/consumer/every_type.qml"
echo "QML module imported from $(dirname "$qml_dir")"

echo "== add_subdirectory consumer"
cmake -S "$src/tests/consumer/add-subdirectory" -B "$work/add-subdirectory" -G Ninja \
    -DQTAIO_SOURCE_DIR="$src" "${launcher[@]}" >/dev/null
cmake --build "$work/add-subdirectory"
"$work/add-subdirectory/consumer"
echo "consumers passed"
