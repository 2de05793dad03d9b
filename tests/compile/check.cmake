# SPDX-License-Identifier: MIT
# Builds one target of the build tree and checks the compiler's verdict:
#   cmake -DBUILD_DIR=... -DTARGET=... [-DEXPECT_ERROR=regex [-DSINGLE_ERROR=OFF]] -P check.cmake
# Without EXPECT_ERROR the target must build. With it, the build must fail with exactly one
# error, and that error must match EXPECT_ERROR (a misuse gets one readable diagnostic); with
# SINGLE_ERROR=OFF it is enough that the build fails and one of its errors matches.
execute_process(
    COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target ${TARGET}
    RESULT_VARIABLE result
    OUTPUT_VARIABLE output
    ERROR_VARIABLE output)
if(NOT DEFINED EXPECT_ERROR)
    if(NOT result EQUAL 0)
        message(FATAL_ERROR "${TARGET} does not compile:\n${output}")
    endif()
    message(STATUS "${TARGET} compiles")
    return()
endif()
if(result EQUAL 0)
    message(FATAL_ERROR "${TARGET} compiled, but it should have been rejected with '${EXPECT_ERROR}'")
endif()
string(REPLACE ";" "," output "${output}") # a CMake list would split the messages there
string(REGEX MATCHALL "[^\n]*error:[^\n]*" errors "${output}")
list(LENGTH errors count)
if(NOT DEFINED SINGLE_ERROR)
    set(SINGLE_ERROR ON)
endif()
if(SINGLE_ERROR AND NOT count EQUAL 1)
    message(FATAL_ERROR "${TARGET}: expected one error matching '${EXPECT_ERROR}', got ${count}:\n${output}")
endif()
if(NOT errors MATCHES "${EXPECT_ERROR}")
    message(FATAL_ERROR "${TARGET}: the error does not match '${EXPECT_ERROR}':\n${output}")
endif()
message(STATUS "${TARGET} is rejected as expected: ${errors}")
