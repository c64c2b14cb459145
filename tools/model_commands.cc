#include "tools/model_commands.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <memory>

#include "models/densenet.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

struct ModelInfoOptions {
  std::string arch = "bdn28";
  int classes = 8;
  int input_size = 64;
  bool json = false;
};

int RunModelInfo(const ModelInfoOptions& o) {
  Result<DenseNet> model = MakeModel(o.arch, o.classes, o.input_size);
  if (!model.ok()) {
    std::cerr << "fedsmear model-info: " << model.status().message() << "\n";
    return 1;
  }
  auto [params, binary] = CountParameters(*model);
  ModelState state = ExportState(*model, {});
  const size_t float_bytes = PackModel(state, LosslessPackOptions()).size();
  const size_t packed = PackModel(state, *ParseDownlinkCodec("sign1")).size();
  const size_t packed16 = PackModel(state, *ParseDownlinkCodec("sign1+f16")).size();
  nlohmann::ordered_json j = {
      {"arch", o.arch},          {"classes", o.classes},
      {"input_size", o.input_size}, {"params", params},
      {"binary_params", binary}, {"float_params", params - binary},
      {"float_bytes", float_bytes}, {"packed_bytes", packed},
      {"packed_bytes_fp16", packed16},
  };
  if (o.json) {
    std::cout << j.dump() << "\n";
    return 0;
  }
  const double mib = 1048576.0;
  std::printf("%s, %d classes, %d px\n", o.arch.c_str(), o.classes, o.input_size);
  std::printf("  parameters        %12lld (binary %lld, float %lld)\n",
              static_cast<long long>(params), static_cast<long long>(binary),
              static_cast<long long>(params - binary));
  std::printf("  float checkpoint  %9.2f MiB\n", float_bytes / mib);
  std::printf("  packed (fp32)     %9.2f MiB  (%.1fx smaller)\n", packed / mib,
              static_cast<double>(float_bytes) / packed);
  std::printf("  packed (fp16)     %9.2f MiB  (%.1fx smaller)\n", packed16 / mib,
              static_cast<double>(float_bytes) / packed16);
  return 0;
}

}  // namespace

Command AddModelInfoCommand(CLI::App& root) {
  auto opts = std::make_shared<ModelInfoOptions>();
  CLI::App* app = root.add_subcommand("model-info", "parameter counts and packed sizes of a model");
  app->add_option("--arch", opts->arch, "bdn28 | bdn37 | bdn45 | densenet28 | ... | bdn-tiny")
      ->capture_default_str();
  app->add_option("--classes", opts->classes, "number of classes")->capture_default_str();
  app->add_option("--input-size", opts->input_size, "input side in pixels")->capture_default_str();
  app->add_flag("--json", opts->json, "print one JSON object");
  return {app, [opts] { return RunModelInfo(*opts); }};
}

}  // namespace fedsmear
