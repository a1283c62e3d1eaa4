// Room on disk: each daemon measures its own member's data directory, publishes it on its own
// lease and reads what the others published (defrag/disk_room.h). Runs on the worker thread.
#include "service/daemon_loop.h"

namespace edd::service {

void DaemonLoop::add_disk_rooms(PollView& view) {
  if (!hooks_.measure_disk_room) return;
  std::string prefix;
  {
    std::lock_guard l(mu_);
    prefix = settings_.disk_room_prefix;
  }
  view.local_disk_room = hooks_.measure_disk_room();
  if (!view.error.empty()) return;
  view.disk_rooms = defrag::read_disk_rooms(store_, endpoints(), prefix);
  if (view.local_disk_room && view.local_member_id != 0) {
    view.disk_rooms[view.local_member_id] = *view.local_disk_room;
  }
  defrag::attach_disk_rooms(view.members, view.disk_rooms);
}

// Refreshed each poll. A failed put (NOSPACE refuses puts) deletes nothing: the value published
// before stays readable while keep-alives hold our lease.
void DaemonLoop::publish_disk_room(const PollView& view) {
  const std::int64_t lease = lock_.lease_id();
  if (!view.local_disk_room || view.local_member_id == 0 || lease == 0) return;
  std::string prefix;
  {
    std::lock_guard l(mu_);
    prefix = settings_.disk_room_prefix;
  }
  const Status s = defrag::publish_disk_room(store_, endpoints(), prefix, view.local_member_id,
                                             *view.local_disk_room, lease);
  if (!s && disk_room_published_) {
    observer_.say(
        "disk room: publishing our member's free bytes failed (the value published "
        "before stays): " +
        s.error().message);
  }
  disk_room_published_ = static_cast<bool>(s);
}

std::map<std::uint64_t, defrag::DiskRoom> DaemonLoop::disk_rooms_for_run(
    const std::string& room_prefix, std::uint64_t local_member_id) {
  auto rooms = defrag::read_disk_rooms(store_, endpoints(), room_prefix);
  if (hooks_.measure_disk_room && local_member_id != 0) {
    if (auto mine = hooks_.measure_disk_room()) rooms[local_member_id] = *mine;
  }
  return rooms;
}

}  // namespace edd::service
