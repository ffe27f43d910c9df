#define CATCH_CONFIG_MAIN
// GCC 12 with -fsanitize=address reports false -Wmaybe-uninitialized in <regex>, which Catch2 uses.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <catch2/catch.hpp>
