// fedsmear: the researcher's and administrator's tool. main() wires every subcommand.
#include <iostream>
#include <vector>

#include "common/build_info.h"
#include "common/cli.h"
#include "common/log.h"
#include "tools/command.h"
#include "tools/data_commands.h"
#include "tools/governance_commands.h"
#include "tools/job_commands.h"
#include "tools/doctor_command.h"
#include "tools/enrol_commands.h"
#include "tools/net_commands.h"
#include "tools/model_commands.h"
#include "tools/report_command.h"
#include "tools/simulate_command.h"
#include "tools/train_commands.h"

int main(int argc, char** argv) {
  CLI::App app{"fedsmear: models, data and simulations for federated blood-smear learning"};
  app.require_subcommand(1);
  std::string log_level = "info";
  fedsmear::AddStandardFlags(app, &log_level, fedsmear::BuildRevision());
  std::vector<fedsmear::Command> commands = {
      fedsmear::AddSynthCommand(app),
      fedsmear::AddPartitionCommand(app),
      fedsmear::AddDataInfoCommand(app),
      fedsmear::AddKeygenCommand(app),
      fedsmear::AddKitCommand(app),
      fedsmear::AddEnrolCommand(app),
      fedsmear::AddDoctorCommand(app),
      fedsmear::AddModelInfoCommand(app),
      fedsmear::AddTrainCommand(app),
      fedsmear::AddEvaluateCommand(app),
      fedsmear::AddCalibrateCommand(app),
      fedsmear::AddPredictCommand(app),
      fedsmear::AddSimulateCommand(app),
      fedsmear::AddReportCommand(app),
      fedsmear::AddRoundsCommand(app),
      fedsmear::AddAuditCommand(app),
      fedsmear::AddPlanCommand(app),
      fedsmear::AddJobCommand(app),
  };
  if (int code = fedsmear::ParseCli(app, argc, argv); code >= 0) return code;
  if (auto st = fedsmear::InitLogging(log_level, "fedsmear"); !st.ok()) {
    std::cerr << "fedsmear: " << st.message() << "\n";
    return 2;
  }
  for (auto& c : commands) {
    if (c.app->parsed()) return c.run();
  }
  return 2;
}
