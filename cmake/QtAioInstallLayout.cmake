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

# The QML module: <QML dir>/QtAio, where the QML dir is an import path.
set(QTAIO_QML_INSTALL_DIR "${CMAKE_INSTALL_LIBDIR}/qml" CACHE STRING
    "Where the QML module is installed, relative to the prefix or absolute (its QML import path)")
set(QTAIO_QML_DESTINATION "${QTAIO_QML_INSTALL_DIR}")
