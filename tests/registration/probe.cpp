// A deliberately unregistrable test case: catch_discover_tests splits this name at the ';' into two
// ctest entries that match nothing. tests/CMakeLists.txt expects both entries to fail (Catch runs
// with --warn NoTests) and check_registration.cmake to name the difference: the guards that keep
// a test case from passing without having run.
#define CATCH_CONFIG_MAIN
#include <catch2/catch.hpp>

TEST_CASE("A name with a semicolon; catch_discover_tests splits it", "[registration]") {
  CHECK(1 + 1 == 2);
}
