#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds and runs projects that use QtAio from outside, one step per ctest test:
#   run_consumers.sh STEP SOURCE_DIR BUILD_DIR WORK_DIR
# Each step works in directories of WORK_DIR named after it; the steps marked (prefix) use
# WORK_DIR/prefix, the tree that `install` makes from BUILD_DIR.
#   install         cmake --install BUILD_DIR into WORK_DIR/prefix
#   find-package    (prefix) find_package(QtAio6 COMPONENTS Core Qml): the consumer program, and
#                   every_type.qml from the installed module through QTAIO_QML_IMPORT_PATH
#   components      (prefix) the targets each COMPONENTS list gives, and the failures with their
#                   messages: an unknown component, Qml from a tree without it
#   qml-only        a QML application that links Qt Qml only, not QtAio, runs every_type.qml from
#                   a tree installed (DESTDIR) somewhere else than its prefix, with nothing but
#                   QML_IMPORT_PATH: the plugin and the libraries find each other by RUNPATH
#   pkg-config      (prefix) the consumer program compiled with `pkg-config --cflags --libs`
#                   QtAio6Core, and with QtAio6Qml running every_type.qml from the module at
#                   its qmlimportpath
#   add-subdirectory  add_subdirectory() of the source tree in a project that sets
#                   QT_QML_OUTPUT_DIRECTORY: QtAio's QML module is built there, and every_type.qml
#                   runs from it
#   fetchcontent    FetchContent of the source tree: every_type.qml runs from the build tree's
#                   QTAIO_QML_IMPORT_PATH (configured to install QtAio into /usr, with
#                   QTAIO_INSTALL_QML_TO_QT_DIR, for qt-qml-dir)
#   qt-qml-dir      the fetchcontent build installed with DESTDIR: the QML module lands in Qt's
#                   QML directory (as $QTAIO_QTPATHS --query QT_INSTALL_QML says) inside DESTDIR,
#                   and its plugin's RUNPATH leads to the libraries installed beside it
set -euo pipefail
step="$1" src="$2" build="$3" work="$4"
prefix="$work/prefix"
every_type="$src/tests/consumer/every_type.qml"
# Nothing from the caller's environment may help a program find QtAio.
unset QML_IMPORT_PATH QML2_IMPORT_PATH LD_LIBRARY_PATH
cmake_args=(-G Ninja)
compile=(c++ -std=c++20 -c)
if command -v ccache >/dev/null; then
    cmake_args+=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    compile=(ccache "${compile[@]}")
fi

fail() {
    echo "FAIL: $*" >&2
    exit 1
}

# build_project NAME CMAKE_ARGS...: configures and builds tests/consumer/NAME in WORK_DIR/NAME.
build_project() {
    local name="$1"
    shift
    rm -rf "${work:?}/$name"
    cmake -S "$src/tests/consumer/$name" -B "$work/$name" "${cmake_args[@]}" "$@" >/dev/null
    cmake --build "$work/$name"
}

# expect_components PREFIX COMPONENTS OPTIONAL_COMPONENTS TARGETS: find_package(QtAio6) in PREFIX
# with these components gives exactly TARGETS (a space-separated list).
expect_components() {
    local output
    output="$(cmake -S "$src/tests/consumer/components" -B "$work/components/build" \
        "${cmake_args[@]}" -UQtAio6_DIR -DCMAKE_PREFIX_PATH="$1" -DCOMPONENTS="$2" \
        -DOPTIONAL_COMPONENTS="$3" 2>&1)" || fail "COMPONENTS '$2' OPTIONAL_COMPONENTS '$3':"$'\n'"$output"
    grep -qxF -- "-- QtAio6 targets: $4" <<<"$output" ||
        fail "COMPONENTS '$2' OPTIONAL_COMPONENTS '$3' should give '$4':"$'\n'"$output"
    echo "ok: COMPONENTS '$2' OPTIONAL_COMPONENTS '$3' gives $4"
}

# expect_refusal PREFIX COMPONENTS MESSAGE: find_package(QtAio6 REQUIRED COMPONENTS ...) in PREFIX
# fails, saying MESSAGE.
expect_refusal() {
    local output
    if output="$(cmake -S "$src/tests/consumer/components" -B "$work/components/build" \
        "${cmake_args[@]}" -UQtAio6_DIR -DCMAKE_PREFIX_PATH="$1" -DCOMPONENTS="$2" \
        -DOPTIONAL_COMPONENTS= 2>&1)"; then
        fail "COMPONENTS '$2' should fail with '$3':"$'\n'"$output"
    fi
    # CMake wraps long messages: compare with the line breaks and indentation removed.
    tr -s ' \n' ' ' <<<"$output" | grep -qF -- "$3" ||
        fail "COMPONENTS '$2' failed without saying '$3':"$'\n'"$output"
    echo "ok: COMPONENTS '$2' fails with: $3"
}

case "$step" in
install)
    rm -rf "$prefix"
    cmake --install "$build" --prefix "$prefix" >/dev/null
    echo "installed into $prefix"
    ;;
find-package)
    build_project find-package -DCMAKE_PREFIX_PATH="$prefix"
    "$work/find-package/consumer"
    "$work/find-package/consumer" --qml "$every_type"
    echo "every_type.qml ran against the installed module"
    ;;
components)
    rm -rf "$work/components"
    expect_components "$prefix" "" "" "QtAio::Core QtAio::Qml"
    expect_components "$prefix" "Core" "" "QtAio::Core"
    expect_components "$prefix" "Qml" "" "QtAio::Core QtAio::Qml"
    expect_components "$prefix" "Core;Qml" "" "QtAio::Core QtAio::Qml"
    expect_components "$prefix" "Core" "Qml;Widgets" "QtAio::Core QtAio::Qml"
    expect_refusal "$prefix" "Core;Widgets" \
        'QtAio6 has no component "Widgets"; its components are Core and Qml'
    # A tree installed without the QML module (QTAIO_BUILD_QML=OFF) has no Qml targets file.
    cp -a "$prefix" "$work/components/core-only"
    rm "$(find "$work/components/core-only" -name 'QtAio6QmlTargets.cmake')"
    expect_components "$work/components/core-only" "" "" "QtAio::Core"
    expect_components "$work/components/core-only" "Core" "Qml" "QtAio::Core"
    expect_refusal "$work/components/core-only" "Core;Qml" \
        "QtAio6 was built without its QML module (QTAIO_BUILD_QML=OFF): it has no component Qml"
    ;;
qml-only)
    # Installed for the prefix /opt/qtaio but staged elsewhere: a RUNPATH naming the prefix
    # would not find the libraries.
    moved="$work/qml-only-stage"
    rm -rf "$moved"
    DESTDIR="$moved" cmake --install "$build" --prefix /opt/qtaio >/dev/null
    build_project qml-only
    if readelf -d "$work/qml-only/qml-only" | grep NEEDED | grep -i qtaio; then
        fail "the QML-only application links QtAio"
    fi
    qmldir="$(find "$moved" -path '*/QtAio/qmldir')"
    [ -n "$qmldir" ] || fail "no qmldir installed"
    QML_IMPORT_PATH="$(dirname "$(dirname "$qmldir")")" "$work/qml-only/qml-only" "$every_type"
    echo "every_type.qml ran in an application that does not link QtAio"
    for file in "$(dirname "$qmldir")"/*.so "$moved"/opt/qtaio/lib*/libQtAio6*.so; do
        runpath="$(readelf -d "$file" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')"
        echo "$(basename "$file"): RUNPATH $runpath"
        [[ "$runpath" == "\$ORIGIN"* ]] || fail "$file: RUNPATH '$runpath' is not relative to \$ORIGIN"
    done
    ;;
pkg-config)
    command -v pkg-config >/dev/null || fail "pkg-config is missing (scripts/install-deps installs it)"
    export PKG_CONFIG_PATH
    PKG_CONFIG_PATH="$(dirname "$(find "$prefix" -name QtAio6Core.pc)")"
    out="$work/pkg-config"
    rm -rf "$out"
    mkdir -p "$out"
    # shellcheck disable=SC2046 # pkg-config's flags are words
    "${compile[@]}" $(pkg-config --cflags QtAio6Core) "$src/tests/consumer/consumer.cpp" -o "$out/consumer.o"
    # shellcheck disable=SC2046
    c++ "$out/consumer.o" -o "$out/consumer" $(pkg-config --libs QtAio6Core)
    # shellcheck disable=SC2046
    "${compile[@]}" $(pkg-config --cflags QtAio6Qml) -DCONSUMER_WITH_QML \
        "$src/tests/consumer/consumer.cpp" -o "$out/consumer-qml.o"
    # shellcheck disable=SC2046
    c++ "$out/consumer-qml.o" -o "$out/consumer-qml" $(pkg-config --libs QtAio6Qml)
    LD_LIBRARY_PATH="$(pkg-config --variable=libdir QtAio6Core)" "$out/consumer"
    LD_LIBRARY_PATH="$(pkg-config --variable=libdir QtAio6Core)" \
        QML_IMPORT_PATH="$(pkg-config --variable=qmlimportpath QtAio6Qml)" \
        "$out/consumer-qml" --qml "$every_type"
    echo "built with pkg-config: $(pkg-config --cflags --libs QtAio6Qml)"
    ;;
add-subdirectory)
    build_project add-subdirectory -DQTAIO_SOURCE_DIR="$src"
    [ -f "$work/add-subdirectory/qml/QtAio/qmldir" ] ||
        fail "the QML module is not in the parent's QT_QML_OUTPUT_DIRECTORY"
    "$work/add-subdirectory/consumer"
    "$work/add-subdirectory/consumer" --qml "$every_type"
    echo "every_type.qml ran against the module in QT_QML_OUTPUT_DIRECTORY"
    ;;
fetchcontent)
    build_project fetchcontent -DFETCHCONTENT_SOURCE_DIR_QTAIO="$src" \
        -DQTAIO_INSTALL=ON -DQTAIO_INSTALL_QML_TO_QT_DIR=ON -DCMAKE_INSTALL_PREFIX=/usr
    "$work/fetchcontent/consumer"
    "$work/fetchcontent/consumer" --qml "$every_type"
    echo "every_type.qml ran against the module in the build tree"
    ;;
qt-qml-dir)
    stage="$work/qt-qml-dir"
    rm -rf "$stage"
    DESTDIR="$stage" cmake --install "$work/fetchcontent" >/dev/null
    [ -n "${QTAIO_QTPATHS:-}" ] || fail "QTAIO_QTPATHS (Qt's qtpaths tool) is not set"
    module="$stage$("$QTAIO_QTPATHS" --query QT_INSTALL_QML)/QtAio"
    for file in qmldir QtAioQml.qmltypes libqtaioqmlplugin.so; do
        [ -f "$module/$file" ] || fail "$module/$file was not installed:"$'\n'"$(find "$stage")"
    done
    runpath="$(readelf -d "$module/libqtaioqmlplugin.so" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')"
    library="${runpath/\$ORIGIN/$module}/libQtAio6Qml.so.0"
    [ -f "$library" ] || fail "the plugin's RUNPATH '$runpath' does not lead to libQtAio6Qml"
    echo "QML module in Qt's QML directory: $module; the plugin's RUNPATH $runpath"
    ;;
*)
    fail "unknown step '$step'"
    ;;
esac
