# SPDX-License-Identifier: MIT
# Names and install directories of QtAio's files. Every installed name carries Qt's major
# version, as QCoro's do (libQCoro6Core, QCoro6Config.cmake, include/qcoro6), so that a QtAio
# built for another Qt major version installs beside this one, and none of them takes the
# pattern of the Qt Project's own modules (libQt6Xxx, Qt6XxxConfig.cmake).

# The CMake package, the pkg-config and library file name prefix: QtAio6.
set(QTAIO_PACKAGE_NAME QtAio${Qt6_VERSION_MAJOR})
string(TOLOWER ${QTAIO_PACKAGE_NAME} qtaio_include_subdir)
# Headers: <prefix>/include/qtaio6/qtaio/*.h, so that consumers write #include <qtaio/...>.
set(QTAIO_INSTALL_INCLUDEDIR ${CMAKE_INSTALL_INCLUDEDIR}/${qtaio_include_subdir})
set(QTAIO_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/${QTAIO_PACKAGE_NAME})
set(QTAIO_INSTALL_PKGCONFIGDIR ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

# The QML module: <QML dir>/QtAio, where the QML dir is an import path. Like ECM's
# KDE_INSTALL_USE_QT_SYS_PATHS, QTAIO_INSTALL_QML_TO_QT_DIR puts it in Qt's own QML directory
# (an absolute path, as Qt's CMake files give it), where every application of that Qt finds it
# without an import path: for a distribution's package, or a prefix shared with Qt.
set(QTAIO_QML_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/qml" CACHE STRING
    "Where the QML module is installed, relative to the prefix or absolute (its QML import path); ignored with QTAIO_INSTALL_QML_TO_QT_DIR")
option(QTAIO_INSTALL_QML_TO_QT_DIR "Install the QML module into Qt's own QML directory" OFF)
if(QTAIO_INSTALL_QML_TO_QT_DIR)
    if(NOT QT6_INSTALL_PREFIX OR NOT QT6_INSTALL_QML)
        message(FATAL_ERROR "QTAIO_INSTALL_QML_TO_QT_DIR: Qt's CMake files do not say where "
            "Qt's QML directory is (QT6_INSTALL_PREFIX, QT6_INSTALL_QML)")
    endif()
    set(QTAIO_QML_DESTINATION "${QT6_INSTALL_PREFIX}/${QT6_INSTALL_QML}")
else()
    set(QTAIO_QML_DESTINATION "${QTAIO_QML_INSTALL_DIR}")
endif()

# Sets the install RUNPATH of `target`, installed into `destination` (relative to the prefix, or
# absolute), to QtAio's library directory: relative to the file itself ($ORIGIN) when both lie
# inside the prefix, so that the installed tree still works when moved (or staged with
# DESTDIR); absolute otherwise. CMAKE_INSTALL_RPATH is kept after it, and
# CMAKE_SKIP_INSTALL_RPATH (a distribution's build) drops it all.
function(qtaio_set_install_rpath target destination)
    set(prefix "${CMAKE_INSTALL_PREFIX}")
    cmake_path(ABSOLUTE_PATH destination BASE_DIRECTORY "${prefix}" NORMALIZE
        OUTPUT_VARIABLE from)
    set(libdir "${CMAKE_INSTALL_FULL_LIBDIR}")
    cmake_path(IS_PREFIX prefix "${from}" NORMALIZE from_inside)
    cmake_path(IS_PREFIX prefix "${libdir}" NORMALIZE libdir_inside)
    if(from_inside AND libdir_inside)
        if(APPLE)
            set(rpath "@loader_path")
        else()
            set(rpath "$ORIGIN")
        endif()
        file(RELATIVE_PATH relative "${from}" "${libdir}")
        string(REGEX REPLACE "/$" "" relative "${relative}")
        if(relative)
            string(APPEND rpath "/${relative}")
        endif()
    else()
        set(rpath "${libdir}")
    endif()
    set_property(TARGET ${target} PROPERTY INSTALL_RPATH "${rpath}" ${CMAKE_INSTALL_RPATH})
endfunction()
