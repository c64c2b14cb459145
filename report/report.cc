#include "report/report.h"

#include <filesystem>

#include "common/file_util.h"
#include "report/report_internal.h"

namespace fedsmear {

using report_internal::Html;
using report_internal::LoadRun;
using report_internal::Run;
using report_internal::Summary;

Status WriteRunReport(const std::string& run_dir, const ReportInfo& info) {
  ASSIGN_OR_RETURN(Run run, LoadRun(run_dir));
  std::string title = info.title;
  if (title.empty()) {
    std::filesystem::path p = std::filesystem::path(run_dir).lexically_normal();
    if (!p.has_filename()) p = p.parent_path();
    title = "fedsmear run " + p.filename().string();
  }
  const std::filesystem::path dir(run_dir);
  RETURN_IF_ERROR(WriteFileAtomic((dir / "report.html").string(), Html(run, info, title))
                      .WithContext("writing report.html"));
  RETURN_IF_ERROR(WriteFileAtomic((dir / "summary.md").string(), Summary(run, info, title))
                      .WithContext("writing summary.md"));
  return Status::Ok();
}

}  // namespace fedsmear
