// The wire schema and the setting descriptions name the same fields (common/wire/wire_settings.h):
// every field of the Cap'n Proto TrainConfig and AugmentConfig is a described setting marked
// Wire() of the matching type, and every such setting has its field; a TrainConfig with every
// setting moved off its default survives Encode/Decode.
#include <capnp/message.h>
#include <capnp/schema.h>
#include <gtest/gtest.h>

#include <set>
#include <string>

#include "common/settings/settings_help.h"
#include "common/wire/fedsmear.capnp.h"
#include "common/wire/messages.h"
#include "common/wire/wire_settings.h"
#include "tests/common/wire/sample_messages.h"

namespace fedsmear::wire {
namespace {

// The wire-marked settings of a described struct, by camelCase name, with the capnp type
// their C++ type travels as.
class WireFields {
 public:
  explicit WireFields(std::map<std::string, capnp::schema::Type::Which>* out) : out_(out) {}
  template <class F>
  void operator()(const F&, const settings::Spec& spec) {
    if (!spec.wire()) return;
    using T = capnp::schema::Type;
    T::Which type;
    if constexpr (settings::IsDescribed<F>::value) {
      type = T::STRUCT;
    } else if constexpr (settings::IsNamedEnum<F>::value || std::is_same_v<F, std::string>) {
      type = T::TEXT;
    } else if constexpr (std::is_same_v<F, bool>) {
      type = T::BOOL;
    } else if constexpr (std::is_floating_point_v<F>) {
      type = T::FLOAT64;
    } else {
      type = T::UINT32;
    }
    (*out_)[CamelCase(spec.name())] = type;
  }

 private:
  std::map<std::string, capnp::schema::Type::Which>* out_;
};

template <class Proto, class T>
void ExpectSameFields(const T& value, const char* what) {
  std::map<std::string, capnp::schema::Type::Which> described;
  WireFields fields(&described);
  Describe(value, fields);
  std::set<std::string> in_schema;
  for (capnp::StructSchema::Field f : capnp::Schema::from<Proto>().getFields()) {
    const std::string name = f.getProto().getName().cStr();
    in_schema.insert(name);
    auto it = described.find(name);
    ASSERT_NE(it, described.end()) << what << "." << name
                                   << " is on the wire but no setting describes it";
    EXPECT_EQ(f.getType().which(), it->second) << what << "." << name;
  }
  for (const auto& [name, type] : described) {
    (void)type;
    EXPECT_TRUE(in_schema.count(name)) << what << "." << name << " is described as sent to "
                                       << "sites but the schema has no such field";
  }
}

TEST(WireSettingsTest, SchemaAndDescriptionsNameTheSameFields) {
  ExpectSameFields<proto::TrainConfig>(TrainConfig{}, "TrainConfig");
  ExpectSameFields<proto::AugmentConfig>(AugmentConfig{}, "AugmentConfig");
}

TEST(WireSettingsTest, EverySettingRoundTrips) {
  Message m = testing_samples::TrainTaskMessage();
  TrainConfig& t = std::get<TrainTask>(m.body).train;
  t.optimizer = Optimizer::kSgd;
  t.optimizer_state = OptimizerStateMode::kKeepScale;
  t.local_steps = 12345;
  t.augment.hue = 0.125;
  t.augment.rot90 = false;
  auto back = Decode(Encode(m));
  ASSERT_TRUE(back.ok()) << back.status();
  const TrainConfig& u = std::get<TrainTask>(back->body).train;
  auto wire_only = [](const TrainConfig& c) { return settings::FlattenSettings(c, true); };
  EXPECT_EQ(wire_only(u), wire_only(t));
}

// A coordinator that predates optimizer_state leaves the field empty: it means "fresh"
// (Spec::Absent), while an unknown name is refused.
TEST(WireSettingsTest, AnEmptyChoiceFromAnOlderPeerMeansItsAbsentValue) {
  capnp::MallocMessageBuilder message;
  proto::TrainConfig::Builder old = message.initRoot<proto::TrainConfig>();
  old.setOptimizer("adam");
  TrainConfig t;
  t.optimizer_state = OptimizerStateMode::kKeep;
  WireIn reader(capnp::toDynamic(old.asReader()), "train.", 256);
  Describe(t, reader);
  ASSERT_TRUE(reader.status().ok()) << reader.status();
  EXPECT_EQ(t.optimizer_state, OptimizerStateMode::kFresh);

  old.setOptimizer("rmsprop");
  WireIn refused(capnp::toDynamic(old.asReader()), "train.", 256);
  Describe(t, refused);
  EXPECT_EQ(refused.status().code(), StatusCode::kCorrupt);
  EXPECT_NE(refused.status().message().find("train.optimizer 'rmsprop'"), std::string::npos)
      << refused.status();
}

}  // namespace
}  // namespace fedsmear::wire
