// The round engine's pieces that need no sites: what each collector provides, the registry's
// refusal of a strategy a collector cannot serve, and the search for a site that spoils a secure
// sum (coordinator/secagg_search.h).
#include <gtest/gtest.h>

#include "coordinator/secagg_search.h"
#include "coordinator/strategy_registry.h"
#include "coordinator/sum_collector.h"

namespace fedsmear {
namespace {

TEST(SumCollectorTest, SecAggProvidesOnlySums) {
  auto plain = MakePlainCollector();
  auto secure = MakeSecAggCollector({});
  EXPECT_FALSE(plain->secure());
  EXPECT_TRUE(secure->secure());
  EXPECT_TRUE(plain->Provides(StrategyNeeds::kLinearSum));
  EXPECT_TRUE(plain->Provides(StrategyNeeds::kIndividualUpdates));
  EXPECT_TRUE(secure->Provides(StrategyNeeds::kLinearSum));
  EXPECT_FALSE(secure->Provides(StrategyNeeds::kIndividualUpdates));
  EXPECT_EQ(secure->MinSites(), 3);
}

TEST(SumCollectorTest, SitesWithoutSigningKeysAreLeftOutAndNamed) {
  auto secure = MakeSecAggCollector({{"a", std::string(32, 'a')}, {"b", std::string(32, 'b')}});
  std::vector<SiteInfo> live = {{"a", 10, 1, {}, {}}, {"b", 10, 1, {}, {}},
                                {"c", 10, 1, {}, {}}};
  const std::vector<SiteInfo> candidates = secure->Candidates(live);
  ASSERT_EQ(candidates.size(), 2u);
  EXPECT_EQ(candidates[0].site_id, "a");
  EXPECT_NE(secure->LeftOut().find("c has no Ed25519 signing key"), std::string::npos)
      << secure->LeftOut();
  EXPECT_EQ(MakePlainCollector()->Candidates(live).size(), 3u);
}

// Every strategy shipped works on sums; a robust rule would declare that it needs each update,
// and the registry refuses it under secure aggregation before anything runs.
TEST(SumCollectorTest, RegistryRefusesARuleThatNeedsEachUpdateUnderSecAgg) {
  for (const StrategyEntry& e : Strategies()) {
    EXPECT_EQ(e.needs, StrategyNeeds::kLinearSum) << e.name;
    EXPECT_TRUE(CheckStrategyFits(e, SecureAggregation::kSecAggPlus).ok()) << e.name;
  }
  StrategyEntry krum{"krum", "the update closest to its neighbours", {}, nullptr,
                     StrategyNeeds::kIndividualUpdates};
  EXPECT_TRUE(CheckStrategyFits(krum, SecureAggregation::kOff).ok());
  const Status refused = CheckStrategyFits(krum, SecureAggregation::kSecAggPlus);
  EXPECT_EQ(refused.code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(refused.message().find("reveals only their sum"), std::string::npos) << refused;
}

TEST(CulpritSearchTest, LeavingTheCulpritOutNamesIt) {
  CulpritSearch search;
  EXPECT_FALSE(search.active());
  const std::string next = search.Failed({"a", "b", "c", "d"}, 3);
  EXPECT_NE(next.find("leaves out a"), std::string::npos) << next;
  EXPECT_TRUE(search.active());
  EXPECT_FALSE(search.MayTakePart("a"));
  EXPECT_TRUE(search.MayTakePart("b"));
  // Without a the sum is impossible again: a is cleared, b is left out next (a comes back, so
  // three sites remain for the round).
  const std::string again = search.Failed({"b", "c", "d"}, 3);
  EXPECT_NE(again.find("leaves out b"), std::string::npos) << again;
  EXPECT_TRUE(search.MayTakePart("a"));
  EXPECT_FALSE(search.MayTakePart("b"));
  // Without b, with every other suspect summed, the round completes: b did it.
  const std::optional<Culprit> culprit = search.Succeeded({"a", "c", "d"});
  ASSERT_TRUE(culprit.has_value());
  EXPECT_EQ(culprit->site_id, "b");
  EXPECT_NE(culprit->evidence.find("a, b, c, d"), std::string::npos) << culprit->evidence;
  EXPECT_FALSE(search.active());
  EXPECT_FALSE(search.MayTakePart("b"));  // for the rest of the run
  EXPECT_TRUE(search.excluded().count("b"));
  EXPECT_FALSE(search.Succeeded({"a", "c", "d"}).has_value());  // a round outside a search
}

TEST(CulpritSearchTest, TheLastSuspectIsConfirmedBeforeItIsExcluded) {
  CulpritSearch search;
  search.Failed({"a", "b", "c", "d", "e"}, 3);
  search.Failed({"b", "c", "d", "e"}, 3);  // a cleared
  search.Failed({"a", "c", "d", "e"}, 3);  // b cleared
  search.Failed({"a", "b", "d", "e"}, 3);  // c cleared
  search.Failed({"a", "b", "c", "e"}, 3);  // d cleared: e is left
  EXPECT_TRUE(search.active());
  EXPECT_FALSE(search.MayTakePart("e"));
  EXPECT_EQ(search.Succeeded({"a", "b", "c", "d"})->site_id, "e");
}

// A round that completes without some other suspect proves nothing about the one left out (the
// culprit may simply not have been summed): nobody is excluded and the search ends.
TEST(CulpritSearchTest, ACompletedRoundWithoutTheOtherSuspectsBlamesNobody) {
  CulpritSearch search;
  search.Failed({"a", "b", "c", "d"}, 3);
  EXPECT_FALSE(search.Succeeded({"b", "c", "e"}).has_value());  // d was not summed
  EXPECT_FALSE(search.active());
  EXPECT_TRUE(search.excluded().empty());
  EXPECT_TRUE(search.MayTakePart("a"));
}

TEST(CulpritSearchTest, GivesUpWhenLeavingOneOutLeavesTooFew) {
  CulpritSearch search;
  const std::string why = search.Failed({"a", "b", "c"}, 3);
  EXPECT_NE(why.find("cannot find the culprit"), std::string::npos) << why;
  EXPECT_FALSE(search.active());  // the attempts count as retries again
  EXPECT_TRUE(search.MayTakePart("a"));
}

// A spoiler that frames honest sites gets at most one excluded per run; later spoiled sums
// start no search (they count as failed tries).
TEST(CulpritSearchTest, ARunExcludesAtMostOneSite) {
  CulpritSearch search;
  search.Failed({"a", "b", "c", "d", "e"}, 3);
  ASSERT_EQ(search.Succeeded({"b", "c", "d", "e"})->site_id, "a");
  const std::string next = search.Failed({"b", "c", "d", "e"}, 3);
  EXPECT_NE(next.find("already excluded"), std::string::npos) << next;
  EXPECT_FALSE(search.active());
}

// Two spoilers restarting the search cannot keep the run searching: a run makes at most
// kMaxSearchAttempts search attempts.
TEST(CulpritSearchTest, SearchAttemptsAreBounded) {
  CulpritSearch search;
  std::string last;
  int active = 0;
  for (int i = 0; i < 3 * CulpritSearch::kMaxSearchAttempts; ++i) {
    last = search.Failed({"a", "b", "c", "d", "e"}, 3);
    active += search.active();
  }
  EXPECT_LE(active, CulpritSearch::kMaxSearchAttempts);
  EXPECT_FALSE(search.active());
  EXPECT_NE(last.find("search attempts"), std::string::npos) << last;
}

// A spoiled sum whose survivors hold none of the remaining suspects (the culprit was elsewhere,
// or there are two): the search starts over among that sum's survivors.
TEST(CulpritSearchTest, ASpoiledSumWithoutSuspectsRestartsTheSearch) {
  CulpritSearch search;
  search.Failed({"a", "b", "c", "d"}, 2);
  search.Failed({"e", "f", "g"}, 2);  // a left out; b, c, d not selected this time
  EXPECT_TRUE(search.active());
  EXPECT_TRUE(search.MayTakePart("a"));
  EXPECT_FALSE(search.MayTakePart("e"));
  const std::optional<Culprit> c = search.Succeeded({"f", "g"});
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->site_id, "e");
  EXPECT_NE(c->evidence.find("e, f, g"), std::string::npos) << c->evidence;
}

}  // namespace
}  // namespace fedsmear
