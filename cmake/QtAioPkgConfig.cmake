# SPDX-License-Identifier: MIT
# pkg-config files for builds without CMake, installed into <libdir>/pkgconfig: QtAio6Core.pc
# and, with the QML module, QtAio6Qml.pc. QCoro 0.8 ships no .pc file: its include directories
# and library go into QtAio6Core.pc's own Cflags and Libs.

# The prefix is found relative to the .pc file (${pcfiledir}), so that `cmake --install --prefix`
# and a moved tree work.
cmake_path(ABSOLUTE_PATH QTAIO_INSTALL_PKGCONFIGDIR BASE_DIRECTORY "${CMAKE_INSTALL_PREFIX}"
    NORMALIZE OUTPUT_VARIABLE qtaio_pc_dir)
cmake_path(IS_PREFIX CMAKE_INSTALL_PREFIX "${qtaio_pc_dir}" NORMALIZE qtaio_pc_inside)
if(qtaio_pc_inside)
    file(RELATIVE_PATH qtaio_pc_up "${qtaio_pc_dir}" "${CMAKE_INSTALL_PREFIX}")
    string(REGEX REPLACE "/$" "" qtaio_pc_up "${qtaio_pc_up}")
    set(QTAIO_PC_PREFIX "\${pcfiledir}/${qtaio_pc_up}")
else()
    set(QTAIO_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
endif()
foreach(dir LIBDIR INCLUDEDIR)
    if(IS_ABSOLUTE "${CMAKE_INSTALL_${dir}}")
        set(QTAIO_PC_${dir} "${CMAKE_INSTALL_${dir}}")
    else()
        set(QTAIO_PC_${dir} "\${prefix}/${CMAKE_INSTALL_${dir}}")
    endif()
endforeach()
string(APPEND QTAIO_PC_INCLUDEDIR "/${qtaio_include_subdir}")

# Sets `cflags_var` and `libs_var` to the -I and -L/-l flags of the imported library `target`,
# without the compiler's own directories.
function(qtaio_pkgconfig_flags_of target cflags_var libs_var)
    get_target_property(includes ${target} INTERFACE_INCLUDE_DIRECTORIES)
    list(REMOVE_ITEM includes ${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES})
    list(REMOVE_DUPLICATES includes)
    list(TRANSFORM includes PREPEND "-I")
    list(JOIN includes " " cflags)
    get_target_property(location ${target} LOCATION)
    get_filename_component(dir "${location}" DIRECTORY)
    get_filename_component(name "${location}" NAME_WE)
    string(REGEX REPLACE "^lib" "" name "${name}")
    set(libs "-l${name}")
    if(NOT dir IN_LIST CMAKE_CXX_IMPLICIT_LINK_DIRECTORIES)
        set(libs "-L${dir} ${libs}")
    endif()
    set(${cflags_var} "${cflags}" PARENT_SCOPE)
    set(${libs_var} "${libs}" PARENT_SCOPE)
endfunction()

# Installs QtAio6<component>.pc, made from cmake/qtaio.pc.in; VARIABLES: more variable lines.
function(qtaio_install_pkgconfig component description requires cflags libs)
    cmake_parse_arguments(ARG "" "VARIABLES" "" ${ARGN})
    set(QTAIO_PC_VARIABLES "${ARG_VARIABLES}")
    set(QTAIO_PC_NAME ${QTAIO_PACKAGE_NAME}${component})
    set(QTAIO_PC_DESCRIPTION "${description}")
    set(QTAIO_PC_REQUIRES "${requires}")
    set(QTAIO_PC_CFLAGS "${cflags}")
    set(QTAIO_PC_LIBS "${libs}")
    configure_file(${PROJECT_SOURCE_DIR}/cmake/qtaio.pc.in ${PROJECT_BINARY_DIR}/${QTAIO_PC_NAME}.pc
        @ONLY)
    install(FILES ${PROJECT_BINARY_DIR}/${QTAIO_PC_NAME}.pc DESTINATION ${QTAIO_INSTALL_PKGCONFIGDIR})
endfunction()

qtaio_pkgconfig_flags_of(QCoro6::Core qtaio_qcoro_cflags qtaio_qcoro_libs)
# Qt's own .pc files leave out the compile options its CMake targets require: -fPIC where Qt was
# built with reduce_relocations (Debian's), without which a program built as -fPIE gets a copy
# of Qt's static data that Qt does not see ("Must construct a QCoreApplication before a
# QJSEngine"). Options given as generator expressions have no pkg-config form.
get_target_property(qtaio_qt_options Qt6::Core INTERFACE_COMPILE_OPTIONS)
if(NOT qtaio_qt_options)
    set(qtaio_qt_options)
endif()
list(FILTER qtaio_qt_options EXCLUDE REGEX "\\$<")
list(JOIN qtaio_qt_options " " qtaio_qt_options)
qtaio_install_pkgconfig(Core "${PROJECT_DESCRIPTION}" "Qt6Core >= 6.4"
    "-I\${includedir} ${qtaio_qcoro_cflags} ${qtaio_qt_options}"
    "-L\${libdir} -l${QTAIO_PACKAGE_NAME}Core ${qtaio_qcoro_libs}")
if(QTAIO_BUILD_QML)
    # qmlimportpath: the import path of the module QtAio (pkg-config --variable=qmlimportpath).
    if(IS_ABSOLUTE "${QTAIO_QML_DESTINATION}")
        set(qtaio_pc_qml "${QTAIO_QML_DESTINATION}")
    else()
        set(qtaio_pc_qml "\${prefix}/${QTAIO_QML_DESTINATION}")
    endif()
    qtaio_install_pkgconfig(Qml "The library of QtAio's QML module QtAio (its C++ types)"
        "${QTAIO_PACKAGE_NAME}Core = ${PROJECT_VERSION}, Qt6Qml >= 6.4"
        "-I\${includedir}/qtaio/qml" "-L\${libdir} -l${QTAIO_PACKAGE_NAME}Qml"
        VARIABLES "qmlimportpath=${qtaio_pc_qml}\n")
endif()
