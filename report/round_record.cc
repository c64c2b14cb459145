#include "report/round_record.h"

#include <algorithm>
#include <type_traits>

namespace fedsmear {
namespace {

using Json = nlohmann::ordered_json;

// Reads known keys with their types checked; the first wrong one names itself in the error.
class Reader {
 public:
  explicit Reader(int line_number) : line_(line_number) {}

  Status Error(const std::string& what) const {
    return Corrupt("metrics.jsonl" +
                   (line_ > 0 ? " line " + std::to_string(line_) : std::string()) + ": " + what);
  }

  template <typename T>
  Status Number(const Json& j, const char* key, T* out, const std::string& where = "") {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if constexpr (std::is_floating_point_v<T>) {
      if (!it->is_number()) return Error(Key(where, key) + " is not a number");
    } else if constexpr (std::is_signed_v<T>) {
      if (!it->is_number_integer()) return Error(Key(where, key) + " is not an integer");
    } else {
      if (!it->is_number_unsigned()) return Error(Key(where, key) + " is not a count");
    }
    *out = it->get<T>();
    return Status::Ok();
  }

  Status Optional(const Json& j, const char* key, std::optional<double>* out,
                  const std::string& where = "") {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_number()) return Error(Key(where, key) + " is neither a number nor null");
    *out = it->get<double>();
    return Status::Ok();
  }

  Status Strings(const Json& j, const char* key, std::vector<std::string>* out,
                 const std::string& where = "") {
    auto it = j.find(key);
    if (it == j.end()) return Status::Ok();
    if (!it->is_array()) return Error(Key(where, key) + " is not a list");
    for (const Json& s : *it) {
      if (!s.is_string()) return Error(Key(where, key) + " holds a non-string");
      out->push_back(s.get<std::string>());
    }
    return Status::Ok();
  }

  Status Object(const Json& j, const char* key, const Json** out, const std::string& where = "") {
    *out = nullptr;
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return Status::Ok();
    if (!it->is_object()) return Error(Key(where, key) + " is not an object");
    *out = &*it;
    return Status::Ok();
  }

  static std::string Key(const std::string& where, const char* key) {
    return "\"" + (where.empty() ? std::string() : where + ".") + key + "\"";
  }

 private:
  int line_;
};

Status ReadSet(Reader& r, const Json& j, const std::string& where, SetScores* s) {
  RETURN_IF_ERROR(r.Optional(j, "accuracy", &s->accuracy, where));
  RETURN_IF_ERROR(r.Optional(j, "macro_f1", &s->macro_f1, where));
  RETURN_IF_ERROR(r.Optional(j, "loss", &s->loss, where));
  RETURN_IF_ERROR(r.Number(j, "samples", &s->samples, where));
  if (auto it = j.find("per_class"); it != j.end()) {
    if (!it->is_array()) return r.Error(Reader::Key(where, "per_class") + " is not a list");
    for (const Json& c : *it) {
      const std::string at = where + ".per_class[" + std::to_string(s->per_class.size()) + "]";
      if (!c.is_object()) return r.Error("\"" + at + "\" is not an object");
      ClassScores row;
      if (auto n = c.find("class"); n != c.end() && n->is_string()) {
        row.name = n->get<std::string>();
      } else {
        row.name = std::to_string(s->per_class.size());
      }
      RETURN_IF_ERROR(r.Number(c, "precision", &row.precision, at));
      RETURN_IF_ERROR(r.Number(c, "recall", &row.recall, at));
      RETURN_IF_ERROR(r.Number(c, "f1", &row.f1, at));
      RETURN_IF_ERROR(r.Number(c, "support", &row.support, at));
      s->per_class.push_back(std::move(row));
    }
  }
  if (auto it = j.find("confusion"); it != j.end()) {
    const std::string bad = Reader::Key(where, "confusion") + " is not a matrix of counts";
    if (!it->is_array()) return r.Error(bad);
    for (const Json& row : *it) {
      if (!row.is_array()) return r.Error(bad);
      std::vector<int64_t> counts;
      for (const Json& v : row) {
        if (!v.is_number_integer()) return r.Error(bad);
        counts.push_back(v.get<int64_t>());
      }
      s->confusion.push_back(std::move(counts));
    }
  }
  return Status::Ok();
}

Json OptionalJson(const std::optional<double>& v) { return v ? Json(*v) : Json(nullptr); }

}  // namespace

SetScores SetScores::FromConfusion(const ConfusionMatrix& matrix,
                                   const std::vector<std::string>& class_names, double loss) {
  // The numbers and names ConfusionMatrix::ToJson reports.
  SetScores s;
  s.accuracy = matrix.Accuracy();
  s.macro_f1 = matrix.MacroF1();
  s.loss = loss;
  s.samples = matrix.total();
  const std::vector<ClassMetrics> per = matrix.PerClass();
  for (int k = 0; k < matrix.classes(); ++k) {
    const size_t i = static_cast<size_t>(k);
    s.per_class.push_back({i < class_names.size() ? class_names[i] : std::to_string(k),
                           per[i].precision, per[i].recall, per[i].f1, per[i].support});
    std::vector<int64_t> row;
    for (int p = 0; p < matrix.classes(); ++p) row.push_back(matrix.at(k, p));
    s.confusion.push_back(std::move(row));
  }
  return s;
}

void RoundRecord::AddFailure(const std::string& site, const std::string& reason) {
  for (auto& [id, why] : sites_failed) {
    if (id == site) {
      why = reason;
      return;
    }
  }
  sites_failed.emplace_back(site, reason);
}

const SetScores* RoundRecord::Set(const std::string& name) const {
  if (!central) return nullptr;
  for (const auto& [n, s] : *central) {
    if (n == name) return &s;
  }
  return nullptr;
}

Json ToJson(const RoundRecord& rec) {
  Json line;
  line["round"] = rec.round;
  line["lr"] = rec.lr;
  line["sites_selected"] = rec.sites_selected;
  line["sites_reported"] = rec.sites_reported;
  Json failed = Json::object();
  for (const auto& [site, reason] : rec.sites_failed) failed[site] = reason;
  line["sites_failed"] = failed;
  line["accuracy"] = OptionalJson(rec.accuracy);
  line["macro_f1"] = OptionalJson(rec.macro_f1);
  if (rec.central) {
    Json sets = Json::object();
    for (const auto& [name, s] : *rec.central) {
      Json j;
      j["accuracy"] = OptionalJson(s.accuracy);
      j["macro_f1"] = OptionalJson(s.macro_f1);
      j["samples"] = s.samples;
      j["per_class"] = Json::array();
      for (const ClassScores& c : s.per_class) {
        j["per_class"].push_back({{"class", c.name},
                                  {"precision", c.precision},
                                  {"recall", c.recall},
                                  {"f1", c.f1},
                                  {"support", c.support}});
      }
      j["confusion"] = Json::array();
      for (const auto& row : s.confusion) j["confusion"].push_back(row);
      if (s.loss) j["loss"] = *s.loss;
      sets[name] = j;
    }
    line["central"] = sets;
  }
  if (!rec.site_images.empty()) {
    Json images = Json::object();
    for (const SiteImages& i : rec.site_images) {
      images[i.site] = {{"train", i.train}, {"val", i.val}};
    }
    line["site_images"] = images;
  }
  line["site_val_accuracy"] = rec.site_val_accuracy;
  if (rec.federated) {
    line["federated"] = {{"accuracy", rec.federated->accuracy},
                         {"loss", rec.federated->loss},
                         {"samples", rec.federated->samples},
                         {"sites", rec.federated->sites}};
  }
  if (rec.bn_recalibration) {
    line["bn_recalibration"] = {{"sites", rec.bn_recalibration->sites},
                                {"images", rec.bn_recalibration->images},
                                {"bytes_up", rec.bn_recalibration->bytes_up}};
  }
  if (rec.federated || rec.bn_recalibration) line["bytes_eval_down"] = rec.bytes_eval_down;
  line["bytes_down"] = rec.bytes_down;
  line["bytes_up"] = rec.bytes_up;
  line["train_s"] = rec.train_s;
  line["round_s"] = rec.round_s;
  line["eval_s"] = rec.eval_s;
  if (rec.sign_flips) line["sign_flips"] = *rec.sign_flips;
  if (rec.secagg) {
    line["secure_aggregation"] = true;
    line["secagg"] = {{"survivors", rec.secagg->survivors},
                      {"dropped", rec.secagg->dropped},
                      {"threshold", rec.secagg->threshold},
                      {"neighbours", rec.secagg->neighbours},
                      {"vote_bits", rec.secagg->vote_bits},
                      {"bytes", rec.secagg->bytes}};
  }
  return line;
}

std::string ToJsonLine(const RoundRecord& record) { return ToJson(record).dump(); }

Result<RoundRecord> RoundRecordFromJson(const Json& j, int line_number) {
  Reader r(line_number);
  if (!j.is_object()) return r.Error("not a JSON object");
  auto round = j.find("round");
  if (round == j.end()) return r.Error("no \"round\"");
  if (!round->is_number_integer()) return r.Error("\"round\" is not an integer");
  RoundRecord rec;
  rec.round = round->get<int>();
  RETURN_IF_ERROR(r.Number(j, "lr", &rec.lr));
  RETURN_IF_ERROR(r.Strings(j, "sites_selected", &rec.sites_selected));
  RETURN_IF_ERROR(r.Strings(j, "sites_reported", &rec.sites_reported));
  const Json* obj = nullptr;
  RETURN_IF_ERROR(r.Object(j, "sites_failed", &obj));
  if (obj) {
    for (const auto& [site, reason] : obj->items()) {
      rec.AddFailure(site, reason.is_string() ? reason.get<std::string>() : reason.dump());
    }
  }
  RETURN_IF_ERROR(r.Optional(j, "accuracy", &rec.accuracy));
  RETURN_IF_ERROR(r.Optional(j, "macro_f1", &rec.macro_f1));
  RETURN_IF_ERROR(r.Object(j, "central", &obj));
  if (obj) {
    rec.central.emplace();
    for (const auto& [name, set] : obj->items()) {
      const std::string where = "central." + name;
      if (!set.is_object()) return r.Error("\"" + where + "\" is not an object");
      SetScores s;
      RETURN_IF_ERROR(ReadSet(r, set, where, &s));
      rec.central->emplace_back(name, std::move(s));
    }
  }
  RETURN_IF_ERROR(r.Object(j, "site_images", &obj));
  if (obj) {
    for (const auto& [site, counts] : obj->items()) {
      if (!counts.is_object()) return r.Error("\"site_images." + site + "\" is not an object");
      SiteImages i{site, 0, 0};
      RETURN_IF_ERROR(r.Number(counts, "train", &i.train, "site_images." + site));
      RETURN_IF_ERROR(r.Number(counts, "val", &i.val, "site_images." + site));
      rec.site_images.push_back(std::move(i));
    }
  }
  RETURN_IF_ERROR(r.Number(j, "site_val_accuracy", &rec.site_val_accuracy));
  RETURN_IF_ERROR(r.Object(j, "federated", &obj));
  if (obj) {
    FederatedScores f;
    RETURN_IF_ERROR(r.Number(*obj, "accuracy", &f.accuracy, "federated"));
    RETURN_IF_ERROR(r.Number(*obj, "loss", &f.loss, "federated"));
    RETURN_IF_ERROR(r.Number(*obj, "samples", &f.samples, "federated"));
    RETURN_IF_ERROR(r.Number(*obj, "sites", &f.sites, "federated"));
    rec.federated = f;
  }
  RETURN_IF_ERROR(r.Object(j, "bn_recalibration", &obj));
  if (obj) {
    BnRecalibration b;
    RETURN_IF_ERROR(r.Number(*obj, "sites", &b.sites, "bn_recalibration"));
    RETURN_IF_ERROR(r.Number(*obj, "images", &b.images, "bn_recalibration"));
    RETURN_IF_ERROR(r.Number(*obj, "bytes_up", &b.bytes_up, "bn_recalibration"));
    rec.bn_recalibration = b;
  }
  RETURN_IF_ERROR(r.Number(j, "bytes_eval_down", &rec.bytes_eval_down));
  RETURN_IF_ERROR(r.Number(j, "bytes_down", &rec.bytes_down));
  RETURN_IF_ERROR(r.Number(j, "bytes_up", &rec.bytes_up));
  RETURN_IF_ERROR(r.Number(j, "train_s", &rec.train_s));
  RETURN_IF_ERROR(r.Number(j, "round_s", &rec.round_s));
  RETURN_IF_ERROR(r.Number(j, "eval_s", &rec.eval_s));
  RETURN_IF_ERROR(r.Optional(j, "sign_flips", &rec.sign_flips));
  RETURN_IF_ERROR(r.Object(j, "secagg", &obj));
  if (obj) {
    SecAggCounts s;
    RETURN_IF_ERROR(r.Strings(*obj, "survivors", &s.survivors, "secagg"));
    RETURN_IF_ERROR(r.Strings(*obj, "dropped", &s.dropped, "secagg"));
    RETURN_IF_ERROR(r.Number(*obj, "threshold", &s.threshold, "secagg"));
    RETURN_IF_ERROR(r.Number(*obj, "neighbours", &s.neighbours, "secagg"));
    RETURN_IF_ERROR(r.Number(*obj, "vote_bits", &s.vote_bits, "secagg"));
    RETURN_IF_ERROR(r.Number(*obj, "bytes", &s.bytes, "secagg"));
    rec.secagg = std::move(s);
  }
  return rec;
}

Result<RoundRecord> ParseRoundRecord(std::string_view line, int line_number) {
  Json j = Json::parse(line.begin(), line.end(), nullptr, false);
  if (j.is_discarded()) {
    return Corrupt("metrics.jsonl" +
                   (line_number > 0 ? " line " + std::to_string(line_number) : std::string()) +
                   ": not valid JSON (a half-written line?)");
  }
  return RoundRecordFromJson(j, line_number);
}

}  // namespace fedsmear
