// Conversions between DenseNet modules, ModelState, files and Python-readable pickles.
#include <c10/util/Exception.h>
#include <torch/serialize.h>

#include <cstring>
#include <fstream>

#include "common/file_util.h"
#include "models/densenet.h"
#include "models/packed_model.h"

namespace fedsmear {
namespace {

bool IsStatBuffer(const std::string& name) {
  return name.size() > 13 && (name.rfind("running_mean") == name.size() - 12 ||
                              name.rfind("running_var") == name.size() - 11);
}

}  // namespace

NamedTensor ToNamed(const std::string& name, const torch::Tensor& t, TensorKind kind) {
  NamedTensor n;
  n.name = name;
  n.kind = kind;
  n.shape = t.sizes().vec();
  torch::Tensor c = t.detach().to(torch::kFloat32).contiguous();
  n.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
  return n;
}

ModelState ExportState(DenseNet& model, const std::vector<std::string>& class_names) {
  ModelState s;
  s.meta = {model->arch().name, model->classes(), model->input_size(), class_names};
  for (const auto& p : model->named_parameters()) {
    TensorKind kind = model->IsBinaryParam(p.key()) ? TensorKind::kBinary : TensorKind::kFloat;
    s.tensors.push_back(ToNamed(p.key(), p.value(), kind));
  }
  for (const auto& b : model->named_buffers()) {
    if (IsStatBuffer(b.key())) s.tensors.push_back(ToNamed(b.key(), b.value(), TensorKind::kStat));
  }
  return s;
}

Status ImportState(const ModelState& state, DenseNet& model) {
  ModelState expected = ExportState(model, state.meta.class_names);
  RETURN_IF_ERROR(CheckSameLayout(expected, state));
  torch::NoGradGuard g;
  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  for (const NamedTensor& t : state.tensors) {
    torch::Tensor* target = params.find(t.name);
    if (target == nullptr) target = buffers.find(t.name);
    if (target == nullptr) return Internal("tensor " + t.name + " vanished from the model");
    std::memcpy(target->data_ptr<float>(), t.values.data(), t.values.size() * sizeof(float));
  }
  return Status::Ok();
}

Result<DenseNet> ModelFromState(const ModelState& state, double bn_momentum) {
  ASSIGN_OR_RETURN(DenseNet model,
                   MakeModel(state.meta.arch, state.meta.classes, state.meta.input_size,
                             bn_momentum));
  RETURN_IF_ERROR(ImportState(state, model));
  return model;
}

Result<ModelState> LoadModelFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, uint64_t{4} << 30));
  Result<ModelState> state = UnpackModel(bytes);
  if (!state.ok()) return state.status().WithContext(path);
  // The architecture check: the tensors must be exactly those of the named network.
  Result<DenseNet> model = ModelFromState(*state);
  if (!model.ok()) return model.status().WithContext(path);
  return state;
}

Status ExportTorchPickle(const ModelState& state, const std::string& path) {
  try {
    c10::Dict<std::string, torch::Tensor> dict;
    for (const NamedTensor& t : state.tensors) {
      dict.insert(t.name, torch::from_blob(const_cast<float*>(t.values.data()), t.shape,
                                           torch::kFloat32)
                              .clone());
    }
    std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
    return WriteFileAtomic(path, std::string_view(bytes.data(), bytes.size()));
  } catch (const c10::Error& e) {
    return Internal(std::string("cannot pickle model: ") + e.what_without_backtrace());
  }
}

Status SaveTrainingState(DenseNet& model, torch::optim::Optimizer& optimizer,
                         const std::string& path) {
  try {
    torch::serialize::OutputArchive model_archive, optim_archive, archive;
    model->save(model_archive);
    optimizer.save(optim_archive);
    archive.write("model", model_archive);
    archive.write("optimizer", optim_archive);
    std::ostringstream out;
    archive.save_to(out);
    return WriteFileAtomic(path, out.str());
  } catch (const c10::Error& e) {
    return IoError(std::string("cannot save training state: ") + e.what_without_backtrace());
  }
}

Status LoadTrainingState(const std::string& path, DenseNet& model,
                         torch::optim::Optimizer& optimizer) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path));
  try {
    std::istringstream in(bytes);
    torch::serialize::InputArchive archive, model_archive, optim_archive;
    archive.load_from(in);
    archive.read("model", model_archive);
    archive.read("optimizer", optim_archive);
    model->load(model_archive);
    optimizer.load(optim_archive);
    return Status::Ok();
  } catch (const c10::Error& e) {
    return Corrupt(path + ": cannot load training state: " + e.what_without_backtrace());
  }
}

}  // namespace fedsmear
