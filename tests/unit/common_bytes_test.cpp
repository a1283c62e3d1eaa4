#include <catch2/catch.hpp>

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
}
