// Progress of training and evaluation for people at a terminal: epoch, batch, images per
// second and ETA, redrawn in place on stderr when stderr is a terminal (isatty), and one plain
// log line per epoch otherwise (services, pipes, CI logs).
//
// Thread-safety: a ProgressFn is called from the one thread that trains; distinct ProgressFns
// are independent. Ownership: the returned function owns its small state.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace fedsmear {

struct ProgressTick {
  int epoch = 0;          // 0-based
  int64_t batch = 0;      // 0-based index of the batch just finished
  int64_t batches = 0;    // batches in this epoch
  int64_t images = 0;     // images of this epoch done so far
  double loss = -1;       // running mean loss of the epoch; < 0: none to show
};

using ProgressFn = std::function<void(const ProgressTick&)>;

// The terminal line for `tick` after `elapsed_s` seconds of the epoch, e.g.
// "site-1 epoch 2/5 [#######.......] 120/300 loss 0.4321  412 img/s  ETA 1m05s".
// epochs <= 0: an evaluation pass (no epoch shown).
std::string FormatProgressLine(const std::string& label, int epochs, const ProgressTick& tick,
                               double elapsed_s);
// The plain line at the end of an epoch (or evaluation pass), e.g.
// "site-1 epoch 2/5 done: 9600 images, loss 0.4321, 412 img/s, 23 s".
std::string FormatEpochSummary(const std::string& label, int epochs, const ProgressTick& tick,
                               double elapsed_s);
// "45s", "1m05s", "2h03m".
std::string FormatDuration(double seconds);

// Bar on stderr when it is a terminal, else FormatEpochSummary as an info log line per epoch.
ProgressFn TerminalProgress(const std::string& label, int epochs);

}  // namespace fedsmear
