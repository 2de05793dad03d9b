# SPDX-License-Identifier: MIT
# What `cmake --install` writes besides the libraries, headers and the QML module: the CMake
# package QtAio6, with one targets file per component, and the pkg-config files.
include(CMakePackageConfigHelpers)

set(qtaio_components Core)
if(QTAIO_BUILD_QML)
    list(APPEND qtaio_components Qml)
endif()
if(QTAIO_BUILD_INSPECTOR)
    list(APPEND qtaio_components Inspector)
endif()
foreach(component IN LISTS qtaio_components)
    install(EXPORT ${QTAIO_PACKAGE_NAME}${component}Targets
        NAMESPACE QtAio::
        DESTINATION ${QTAIO_INSTALL_CMAKEDIR})
endforeach()

configure_package_config_file(cmake/QtAioConfig.cmake.in
    ${PROJECT_BINARY_DIR}/${QTAIO_PACKAGE_NAME}Config.cmake
    INSTALL_DESTINATION ${QTAIO_INSTALL_CMAKEDIR}
    PATH_VARS QTAIO_QML_DESTINATION)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/${QTAIO_PACKAGE_NAME}ConfigVersion.cmake
    COMPATIBILITY SameMinorVersion)
install(FILES
    ${PROJECT_BINARY_DIR}/${QTAIO_PACKAGE_NAME}Config.cmake
    ${PROJECT_BINARY_DIR}/${QTAIO_PACKAGE_NAME}ConfigVersion.cmake
    DESTINATION ${QTAIO_INSTALL_CMAKEDIR})

include(cmake/QtAioPkgConfig.cmake)
