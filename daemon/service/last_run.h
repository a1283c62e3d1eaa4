// The last-run record: when the last run ended, how, by whom and why. The daemons share it in
// etcd so the cooldown holds across daemons; its text there is a codec's business (LoopHooks),
// so the loop itself needs no JSON library.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace edd::service {

struct LastRun {
  std::int64_t unix_seconds = 0;
  std::string result;  // outcome_name
  std::string actor;
  std::string trigger;
};

// The record as stored in etcd, and back; decode says nullopt for a value it cannot read.
using EncodeLastRun = std::function<std::string(const LastRun&)>;
using DecodeLastRun = std::function<std::optional<LastRun>(const std::string&)>;

}  // namespace edd::service
