#include "report/rounds_table.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>
#include <string>

namespace fedsmear {

RoundsTable::RoundsTable(std::filesystem::path metrics_jsonl, std::FILE* out)
    : path_(std::move(metrics_jsonl)), out_(out) {
  std::fprintf(out_, "%5s  %8s  %8s  %9s  %9s  %9s  %7s  %7s  %s\n", "round", "sites", "accuracy",
               "macro-F1", "MiB down", "MiB up", "train s", "round s", "reported");
}

int RoundsTable::Poll() {
  std::ifstream in(path_);
  std::string line;
  size_t n = 0;
  while (std::getline(in, line)) {
    if (++n <= printed_) continue;
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_discarded() || !j["round"].is_number_integer()) continue;
    auto num = [&](const char* k) { return j[k].is_number() ? j[k].get<double>() : 0.0; };
    std::string sites = std::to_string(j["sites_reported"].size()) + "/" +
                        std::to_string(j["sites_selected"].size());
    std::string who;
    for (const auto& id : j["sites_reported"]) {
      if (!id.is_string()) continue;
      who += (who.empty() ? "" : ",") + id.get<std::string>();
    }
    last_round_ = std::max(last_round_, j["round"].get<int>());
    std::fprintf(out_, "%5d  %8s  %8.4f  %9.4f  %9.2f  %9.2f  %7.1f  %7.1f  %s\n",
                 j["round"].get<int>(), sites.c_str(), num("accuracy"), num("macro_f1"),
                 num("bytes_down") / 1048576.0, num("bytes_up") / 1048576.0, num("train_s"),
                 num("round_s"), who.c_str());
    std::fflush(out_);
    printed_ = n;
  }
  return last_round_;
}

}  // namespace fedsmear
