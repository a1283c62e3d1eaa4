#include <catch2/catch.hpp>
#include <cstdint>

#include "common/bytes.h"

TEST_CASE("sizes print in SI units exactly like etcdctl's table", "[bytes]") {
  CHECK(edd::format_bytes_si(0) == "0 B");
  CHECK(edd::format_bytes_si(9) == "9 B");
  CHECK(edd::format_bytes_si(20480) == "20 kB");
  CHECK(edd::format_bytes_si(4096) == "4.1 kB");
  CHECK(edd::format_bytes_si(16777216) == "17 MB");
  CHECK(edd::format_bytes_si(852000000) == "852 MB");
  CHECK(edd::format_bytes_si(2147483648) == "2.1 GB");
  CHECK(edd::format_bytes_si(-4096) == "-4.1 kB");
  CHECK(edd::format_bytes_si(INT64_MIN) == "-9.2 EB");
  CHECK(edd::format_bytes_si(INT64_MAX) == "9.2 EB");
}
