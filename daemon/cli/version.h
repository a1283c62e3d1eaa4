// Version and build facts printed by `version` and exported as etcd_defragd_build_info.
#pragma once

#include <string>
#include <string_view>

namespace edd::cli {

inline constexpr std::string_view kVersion = EDD_VERSION;

std::string build_info();

}  // namespace edd::cli
