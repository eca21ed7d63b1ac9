#include "tritium/progress.hpp"

#include <utility>

namespace tritium {

progress_meter::progress_meter(progress_callback callback, const char* unit, std::uint64_t total)
    : callback_(std::move(callback)) {
  update_.unit = unit;
  update_.total = total;
}

void progress_meter::reach(std::uint64_t done) {
  if (!callback_ || update_.finished || done <= update_.done) return;
  update_.done = done;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < interval) return;
  last_ = now;
  callback_(update_);
}

void progress_meter::finish() {
  if (!callback_ || update_.finished) return;
  update_.finished = true;
  if (update_.total < update_.done) update_.total = update_.done;
  callback_(update_);
}

}  // namespace tritium
