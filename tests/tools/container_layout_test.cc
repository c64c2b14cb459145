// The container layout (`fedsmear simulate --layout docker`, tools/container_layout.h) and the
// two deployments built on it: each folder holds only what its container may see, and every key
// or config path the configs name is where docker/swarm/stack.yml mounts a secret or config.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "common/config.h"
#include "common/file_util.h"
#include "common/process.h"
#include "tests/temp_dir.h"

namespace fedsmear {
namespace {

namespace fs = std::filesystem;

std::set<std::string> FileNames(const fs::path& dir) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.insert(e.path().filename().string());
  return out;
}

// The stack template with its site-1 blocks renamed for site `k`, as scripts/swarm-deploy does.
std::string StackFor(int k) {
  std::string text = ReadFile(FEDSMEAR_SOURCE_DIR "/docker/swarm/stack.yml").value_or("");
  const std::string from = "site-1", to = "site-" + std::to_string(k);
  for (size_t at = text.find(from); at != std::string::npos; at = text.find(from, at + 1)) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// Whether the stack mounts something at `path` (block or flow style: "target: PATH}").
bool Mounted(const std::string& stack, const std::string& path) {
  for (const char* end : {"\n", "}"}) {
    if (stack.find("target: " + path + end) != std::string::npos) return true;
  }
  return false;
}

TEST(ContainerLayoutTest, EachFolderHoldsOnlyItsOwnKeysAndTheStackMountsThem) {
  testing::TempDir dir("fedsmear-layout");
  const fs::path run = dir.Sub("run");
  auto child = ChildProcess::Spawn(
      {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "simulate", "--layout", "docker", "--sites", "2",
       "--rounds", "1", "--synthetic", "wbc", "--per-class", "8", "--arch", "bdn-tiny",
       "--out", run.string()},
      dir.Sub("layout.log"));
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(child->Wait(std::chrono::seconds(120)).value_or(-1), 0)
      << ReadFile(dir.Sub("layout.log")).value_or("");
  const fs::path out = run / "docker";

  const fs::path cdir = out / "coordinator";
  EXPECT_EQ(FileNames(cdir / "keys"),
            (std::set<std::string>{"allowed_sites", "coordinator.key", "coordinator.pub"}));
  auto c = LoadCoordinatorConfig((cdir / "coordinator.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->bind, "tcp://0.0.0.0:7878");
  EXPECT_EQ(c->run_dir, "/run-dir");
  const std::string stack1 = StackFor(1);
  EXPECT_TRUE(Mounted(stack1, c->secret_key_file)) << c->secret_key_file;
  EXPECT_TRUE(Mounted(stack1, c->allowed_sites_file)) << c->allowed_sites_file;
  EXPECT_TRUE(Mounted(stack1, "/etc/fedsmear/coordinator.yaml"));
  EXPECT_TRUE(Mounted(stack1, "/run-dir"));
  ASSERT_FALSE(c->holdout.empty());
  EXPECT_TRUE(Mounted(stack1, c->holdout[0].path)) << c->holdout[0].path;

  for (int k = 1; k <= 2; ++k) {
    const std::string id = "site-" + std::to_string(k);
    const fs::path sdir = out / id;
    EXPECT_EQ(FileNames(sdir / "keys"),
              (std::set<std::string>{id + ".key", id + ".pub", id + ".sign.key",
                                     id + ".sign.pub", "coordinator.pub", "allowed_sites"}))
        << id << " must hold its own keys, the coordinator's public key and the roster "
        << "(public keys) only";
    auto s = LoadClientConfig((sdir / "site.yaml").string());
    ASSERT_TRUE(s.ok()) << s.status();
    EXPECT_EQ(s->site_id, id);
    EXPECT_EQ(s->coordinator, "tcp://coordinator:7878");
    // The site's plan is approved up front in its state folder, which both deployments mount.
    EXPECT_TRUE(fs::exists(sdir / "state" / "approved_plans"));
    const std::string stack = StackFor(k);
    for (const std::string& path : {s->secret_key_file, s->signing_key_file,
                                    s->coordinator_public_key_file, s->data.root, s->state_dir,
                                    std::string("/etc/fedsmear/site.yaml")}) {
      EXPECT_TRUE(Mounted(stack, path)) << id << ": the stack mounts nothing at " << path;
    }
    EXPECT_NE(stack.find("node.labels.fedsmear." + id + " == true"), std::string::npos);
  }
}

// `--layout docker` writes the run's configs without running it, so it also shows what the
// command-line overrides put into them: --strategy-param lands in strategy_params, and a key the
// strategy does not take, or a malformed item, stops the command with the reason.
TEST(ContainerLayoutTest, StrategyParamsReachTheConfigOrStopTheCommand) {
  testing::TempDir dir("fedsmear-layout-params");
  auto simulate = [&](const std::string& name, const std::string& param) {
    auto child = ChildProcess::Spawn(
        {FEDSMEAR_BINARY_DIR "/tools/fedsmear", "simulate", "--layout", "docker", "--sites", "2",
         "--rounds", "1", "--synthetic", "wbc", "--per-class", "4", "--arch", "bdn-tiny",
         "--strategy-param", param, "--out", dir.Sub(name)},
        dir.Sub(name + ".log"));
    if (!child.ok()) return std::make_pair(-1, child.status().ToString());
    const int code = child->Wait(std::chrono::seconds(120)).value_or(-1);
    return std::make_pair(code, ReadFile(dir.Sub(name + ".log")).value_or(""));
  };
  auto [code, log] = simulate("ok", "flip_share=0.3");
  ASSERT_EQ(code, 0) << log;
  auto c = LoadCoordinatorConfig((fs::path(dir.Sub("ok")) / "docker" / "coordinator" /
                                  "coordinator.yaml").string());
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->strategy, "fedvote");
  EXPECT_EQ(c->strategy_params, (std::map<std::string, double>{{"flip_share", 0.3}}));

  auto [typo_code, typo] = simulate("typo", "flip=0.3");
  EXPECT_NE(typo_code, 0);
  EXPECT_NE(typo.find("strategy_params.flip: strategy fedvote takes flip_share"),
            std::string::npos)
      << typo;
  auto [bad_code, bad] = simulate("bad", "flip_share=often");
  EXPECT_NE(bad_code, 0);
  EXPECT_NE(bad.find("expected KEY=NUMBER, got 'flip_share=often'"), std::string::npos) << bad;
}

}  // namespace
}  // namespace fedsmear
