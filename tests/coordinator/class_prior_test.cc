// The pooled class prior the coordinator sends with each task (coordinator/class_prior.h).
#include "coordinator/class_prior.h"

#include <gtest/gtest.h>

namespace fedsmear {
namespace {

SiteInfo Site(const std::string& id, std::vector<std::string> names, std::vector<uint64_t> counts) {
  SiteInfo s;
  s.site_id = id;
  s.class_names = std::move(names);
  s.class_counts = std::move(counts);
  return s;
}

TEST(PooledClassPriorTest, AddsTheSitesCountsByClassName) {
  const std::vector<std::string> model = {"a", "b", "c"};
  // site-2 lists its classes in another order and has a class the model does not know.
  const std::vector<SiteInfo> sites = {Site("site-1", {"a", "b", "c"}, {30, 10, 0}),
                                       Site("site-2", {"c", "pencil", "a"}, {40, 500, 20})};
  const std::vector<double> prior = PooledClassPrior(sites, model);
  ASSERT_EQ(prior.size(), 3u);
  EXPECT_DOUBLE_EQ(prior[0], 50.0 / 100);
  EXPECT_DOUBLE_EQ(prior[1], 10.0 / 100);
  EXPECT_DOUBLE_EQ(prior[2], 40.0 / 100);
}

TEST(PooledClassPriorTest, SitesThatWithholdCountsAreLeftOut) {
  const std::vector<std::string> model = {"a", "b"};
  const std::vector<SiteInfo> sites = {Site("site-1", {"a", "b"}, {}),
                                       Site("site-2", {"a", "b"}, {1, 3})};
  EXPECT_EQ(PooledClassPrior(sites, model), (std::vector<double>{0.25, 0.75}));
  // Nobody shares, no names, or nothing counted: empty (the sites fall back to balanced).
  EXPECT_TRUE(PooledClassPrior({Site("site-1", {"a", "b"}, {})}, model).empty());
  EXPECT_TRUE(PooledClassPrior(sites, {}).empty());
  EXPECT_TRUE(PooledClassPrior({Site("site-1", {"a", "b"}, {0, 0})}, model).empty());
  EXPECT_TRUE(PooledClassPrior({Site("site-1", {"x"}, {7})}, model).empty());
}

}  // namespace
}  // namespace fedsmear
