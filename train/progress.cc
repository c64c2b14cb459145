#include "train/progress.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>

namespace fedsmear {
namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBarWidth = 24;

std::string Prefix(const std::string& label, int epochs, const ProgressTick& t) {
  if (epochs <= 0) return label;
  return label + " epoch " + std::to_string(t.epoch + 1) + "/" + std::to_string(epochs);
}

double Rate(const ProgressTick& t, double elapsed_s) {
  return elapsed_s > 0 ? static_cast<double>(t.images) / elapsed_s : 0;
}

}  // namespace

std::string FormatDuration(double seconds) {
  const long s = std::lround(std::max(0.0, seconds));
  char buf[32];
  if (s < 60) {
    std::snprintf(buf, sizeof(buf), "%lds", s);
  } else if (s < 3600) {
    std::snprintf(buf, sizeof(buf), "%ldm%02lds", s / 60, s % 60);
  } else {
    std::snprintf(buf, sizeof(buf), "%ldh%02ldm", s / 3600, (s % 3600) / 60);
  }
  return buf;
}

std::string FormatProgressLine(const std::string& label, int epochs, const ProgressTick& t,
                               double elapsed_s) {
  const int64_t batches = std::max<int64_t>(1, t.batches);
  const int64_t done = std::min(batches, t.batch + 1);
  const int filled = static_cast<int>(kBarWidth * done / batches);
  std::string bar = "[" + std::string(filled, '#') + std::string(kBarWidth - filled, '.') + "]";
  const double eta = elapsed_s / static_cast<double>(done) * static_cast<double>(batches - done);
  char buf[160];
  std::snprintf(buf, sizeof(buf), " %lld/%lld", static_cast<long long>(done),
                static_cast<long long>(batches));
  std::string line = Prefix(label, epochs, t) + " " + bar + buf;
  if (t.loss >= 0) {
    std::snprintf(buf, sizeof(buf), " loss %.4f", t.loss);
    line += buf;
  }
  if (elapsed_s <= 0) return line + "  -- img/s  ETA --";  // the epoch's first batch: no rate yet
  std::snprintf(buf, sizeof(buf), "  %.0f img/s  ETA %s", Rate(t, elapsed_s),
                FormatDuration(eta).c_str());
  return line + buf;
}

std::string FormatEpochSummary(const std::string& label, int epochs, const ProgressTick& t,
                               double elapsed_s) {
  char buf[160];
  std::string line = Prefix(label, epochs, t) + (epochs > 0 ? " done: " : ": ");
  std::snprintf(buf, sizeof(buf), "%lld images", static_cast<long long>(t.images));
  line += buf;
  if (t.loss >= 0) {
    std::snprintf(buf, sizeof(buf), ", loss %.4f", t.loss);
    line += buf;
  }
  std::snprintf(buf, sizeof(buf), ", %.0f img/s, %s", Rate(t, elapsed_s),
                FormatDuration(elapsed_s).c_str());
  return line + buf;
}

ProgressFn TerminalProgress(const std::string& label, int epochs) {
  struct State {
    Clock::time_point epoch_start = Clock::now();
    Clock::time_point last_draw{};
  };
  const bool tty = ::isatty(STDERR_FILENO) == 1;
  auto state = std::make_shared<State>();
  return [tty, label, epochs, state](const ProgressTick& t) {
    const auto now = Clock::now();
    if (t.batch == 0) state->epoch_start = now;
    const bool last = t.batch + 1 >= t.batches;
    const double elapsed = std::chrono::duration<double>(now - state->epoch_start).count();
    if (!tty) {
      if (last) spdlog::info("{}", FormatEpochSummary(label, epochs, t, elapsed));
      return;
    }
    // Redraw at most 10 times a second, and always for the epoch's last batch.
    if (!last && now - state->last_draw < std::chrono::milliseconds(100)) return;
    state->last_draw = now;
    std::fprintf(stderr, "\r%s\033[K%s", FormatProgressLine(label, epochs, t, elapsed).c_str(),
                 last ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace fedsmear
