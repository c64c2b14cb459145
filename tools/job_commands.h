// `fedsmear job`: the admin's side of a long-lived coordinator (fedsmear-coordinator --jobs DIR;
// coordinator/jobs/job_queue.h):
//   fedsmear job submit CONFIG [--name N] --jobs DIR   checks the config (strategy, codecs,
//                                                       ranges) and queues it, its paths made
//                                                       absolute; prints the id
//   fedsmear job list --jobs DIR                        every job with its state and outcome
//   fedsmear job status ID --jobs DIR                   one job: state, times, rounds so far,
//                                                       latest accuracy, why it ended
//   fedsmear job logs ID --jobs DIR                     the coordinator's log lines of the job
//   fedsmear job abort ID --jobs DIR                    stops a running job, drops a queued one
// DIR defaults to /var/lib/fedsmear/jobs (the packaged service's). The service makes DIR; these
// commands work inside it and never make it or change its mode. Stateless; see tools/command.h.
#pragma once

#include "tools/command.h"

namespace fedsmear {

Command AddJobCommand(CLI::App& root);

}  // namespace fedsmear
