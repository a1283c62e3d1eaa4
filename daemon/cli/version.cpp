#include "cli/version.h"

namespace edd::cli {

std::string build_info() {
  return std::string("compiler: ") + __VERSION__ + "\nbuild type: " + EDD_BUILD_TYPE;
}

}  // namespace edd::cli
