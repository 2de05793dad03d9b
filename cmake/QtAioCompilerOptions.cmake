# SPDX-License-Identifier: MIT
# Warnings, sanitizers and Qt strictness flags shared by every QtAio target.

add_library(qtaio_compiler_options INTERFACE)
target_compile_options(qtaio_compiler_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast -Wcast-align
    -Wunused -Woverloaded-virtual -Wnull-dereference -Wimplicit-fallthrough
    $<$<BOOL:${QTAIO_WERROR}>:-Werror>)
target_compile_definitions(qtaio_compiler_options INTERFACE
    QT_NO_KEYWORDS QT_NO_CAST_FROM_ASCII QT_NO_CAST_TO_ASCII QT_NO_URL_CAST_FROM_STRING
    QT_NO_NARROWING_CONVERSIONS_IN_CONNECT QT_DISABLE_DEPRECATED_UP_TO=0x060400)

if(QTAIO_SANITIZE)
    # Applied to every target of this build, so that the library, the tests and the demo
    # agree on instrumentation (ThreadSanitizer needs all of QtAio instrumented).
    add_compile_options(-fsanitize=${QTAIO_SANITIZE} -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=${QTAIO_SANITIZE})
    if(QTAIO_SANITIZE MATCHES "undefined")
        add_compile_options(-fno-sanitize-recover=undefined)
    endif()
endif()
