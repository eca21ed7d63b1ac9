# Fails unless ctest runs every Catch test case exactly once: the test cases a Catch binary lists
# must be exactly the ctest entries carrying LABEL (one label, or several as a|b). A name that
# catch_discover_tests cannot register (a ';' splits it into entries that match nothing; an unmatched
# '[' swallows the names after it into one entry) shows up as a difference in both directions.
#
#   cmake -DTEST_BINARY=… -DLABEL=… -DBUILD_DIR=… -DCTEST=… -P check_registration.cmake
foreach(var TEST_BINARY LABEL BUILD_DIR CTEST)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_registration: ${var} is not set")
  endif()
endforeach()

# Catch 2 exits with the number of test cases listed; anything but a number is a failure to run.
execute_process(COMMAND ${TEST_BINARY} --list-test-names-only
                OUTPUT_VARIABLE listed RESULT_VARIABLE rc)
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "${TEST_BINARY} --list-test-names-only failed: ${rc}")
endif()
# ctest's JSON listing names each entry exactly as registered (no column formatting to parse).
# -FA: the fixture set-up steps ctest would add to the selection are not test cases.
execute_process(COMMAND ${CTEST} --test-dir ${BUILD_DIR} --show-only=json-v1 -L "^(${LABEL})$" -FA ".*"
                OUTPUT_VARIABLE json RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "ctest --show-only=json-v1 exited ${rc}")
endif()

# Catch's names, one per line. A name may hold ';', CMake's list separator: mask it first.
string(REPLACE ";" "<semicolon>" listed "${listed}")
string(REPLACE "\n" ";" listed "${listed}")
set(cases "")
foreach(line IN LISTS listed)
  string(STRIP "${line}" line)
  if(NOT line STREQUAL "")
    list(APPEND cases "${line}")
  endif()
endforeach()

string(JSON n LENGTH "${json}" tests)
set(entries "")
if(n GREATER 0)
  math(EXPR last "${n} - 1")
  foreach(i RANGE ${last})
    string(JSON name GET "${json}" tests ${i} name)
    string(REPLACE ";" "<semicolon>" name "${name}")
    list(APPEND entries "${name}")
  endforeach()
endif()

list(LENGTH cases n_cases)
list(LENGTH entries n_entries)
set(missing ${cases})
list(REMOVE_ITEM missing ${entries})
set(unmatched ${entries})
list(REMOVE_ITEM unmatched ${cases})
if(missing OR unmatched OR NOT n_cases EQUAL n_entries)
  set(report "")
  foreach(name IN LISTS missing)
    string(APPEND report "\n  test case never run by ctest: \"${name}\"")
  endforeach()
  foreach(name IN LISTS unmatched)
    string(APPEND report "\n  ctest entry that matches no test case: \"${name}\"")
  endforeach()
  message(FATAL_ERROR "${TEST_BINARY} lists ${n_cases} test cases, ctest has ${n_entries} entries "
                      "labelled ${LABEL}:${report}\n"
                      "(catch_discover_tests cannot register a name containing ';' or an unmatched '[')")
endif()
message(STATUS "${n_cases} test cases, each registered once with ctest")
