#include "infer/engine.h"

#include <algorithm>
#include <chrono>
#include <thread>

#include "common/file_util.h"
#include "infer/engine_impl.h"
#include "infer/float_ops.h"
#include "models/arch.h"
#include "models/packed_model.h"

namespace fedsmear::infer {
namespace {

using Clock = std::chrono::steady_clock;

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

class TensorReader {
 public:
  explicit TensorReader(const ModelState& state) : state_(state) {}

  Result<const float*> Get(const std::string& name, const std::vector<int64_t>& shape) const {
    const NamedTensor* t = state_.Find(name);
    if (t == nullptr) return InvalidArgument("model has no tensor " + name);
    if (t->shape != shape) {
      return InvalidArgument("tensor " + name + " has shape " + ShapeText(t->shape) +
                             ", expected " + ShapeText(shape));
    }
    return t->values.data();
  }

  Result<BnParams> Params(const std::string& prefix, int channels) const {
    const std::vector<int64_t> shape = {channels};
    ASSIGN_OR_RETURN(const float* gamma, Get(prefix + ".weight", shape));
    ASSIGN_OR_RETURN(const float* beta, Get(prefix + ".bias", shape));
    return BnParams{{gamma, gamma + channels}, {beta, beta + channels}};
  }

  Result<BnAffine> Bn(const std::string& prefix, int channels) const {
    const std::vector<int64_t> shape = {channels};
    ASSIGN_OR_RETURN(const float* gamma, Get(prefix + ".weight", shape));
    ASSIGN_OR_RETURN(const float* beta, Get(prefix + ".bias", shape));
    ASSIGN_OR_RETURN(const float* mean, Get(prefix + ".running_mean", shape));
    ASSIGN_OR_RETURN(const float* var, Get(prefix + ".running_var", shape));
    return MakeBnAffine(gamma, beta, mean, var, channels);
  }

 private:
  const ModelState& state_;
};

double Seconds(Clock::time_point since) {
  return std::chrono::duration<double>(Clock::now() - since).count();
}

}  // namespace

Result<BinaryEngine> BinaryEngine::FromState(const ModelState& state,
                                             const EngineOptions& options) {
  ASSIGN_OR_RETURN(ArchSpec arch, FindArch(state.meta.arch));
  if (!arch.binary) {
    return InvalidArgument("architecture " + arch.name +
                           " is not binarized: the binary engine runs bdn* models only");
  }
  if (state.meta.classes < 2 || state.meta.input_size < 8) {
    return InvalidArgument("model metadata: classes " + std::to_string(state.meta.classes) +
                           ", input size " + std::to_string(state.meta.input_size));
  }
  auto impl = std::make_unique<Impl>();
  impl->meta = state.meta;
  impl->options = options;
  impl->options.threads = std::max(1, options.threads);
  impl->isa = options.isa.value_or(BestIsa());
  if (!IsaSupported(impl->isa)) {
    return InvalidArgument(std::string("this CPU lacks the ") + IsaName(impl->isa) +
                           " instructions");
  }
  TensorReader r(state);

  int channels = arch.initial_filters;
  impl->stem_channels = channels;
  impl->large_stem = !SmallInputStem(state.meta.input_size);
  if (impl->large_stem) {
    impl->stem_kernel = 7, impl->stem_stride = 2, impl->stem_pad = 3;
    ASSIGN_OR_RETURN(impl->stem_bn, r.Bn("stem.bn", channels));
    ASSIGN_OR_RETURN(impl->stem_params, r.Params("stem.bn", channels));
  }
  const int k = impl->stem_kernel;
  ASSIGN_OR_RETURN(const float* stem_w, r.Get("stem.conv.weight", {channels, 3, k, k}));
  impl->stem_conv = PackConvMatrix(stem_w, channels, 3, k);

  for (size_t b = 0; b < arch.layers.size(); ++b) {
    Block block;
    block.in_channels = channels;
    const std::string bname = "block" + std::to_string(b + 1);
    for (int i = 0; i < arch.layers[b]; ++i) {
      const std::string lname = bname + ".layer" + std::to_string(i + 1);
      DenseLayer layer;
      ASSIGN_OR_RETURN(layer.bn, r.Bn(lname + ".bn", channels));
      ASSIGN_OR_RETURN(layer.params, r.Params(lname + ".bn", channels));
      ASSIGN_OR_RETURN(const float* w,
                       r.Get(lname + ".conv.weight", {arch.growth, channels, 3, 3}));
      layer.conv = PackConvWeights(w, arch.growth, channels);
      block.layers.push_back(std::move(layer));
      channels += arch.growth;
    }
    block.total_channels = channels;
    if (b + 1 < arch.layers.size()) {
      const std::string tname = "trans" + std::to_string(b + 1);
      const int out = TransitionChannels(channels, arch.reductions[b]);
      block.has_transition = true;
      ASSIGN_OR_RETURN(block.trans_bn, r.Bn(tname + ".bn", channels));
      ASSIGN_OR_RETURN(block.trans_params, r.Params(tname + ".bn", channels));
      ASSIGN_OR_RETURN(const float* w, r.Get(tname + ".conv.weight", {out, channels, 1, 1}));
      block.trans_conv = PackMatrix(w, out, channels);
      channels = out;
    }
    impl->blocks.push_back(std::move(block));
  }
  const int classes = state.meta.classes;
  ASSIGN_OR_RETURN(impl->head_bn, r.Bn("head.bn", channels));
  ASSIGN_OR_RETURN(impl->head_params, r.Params("head.bn", channels));
  ASSIGN_OR_RETURN(const float* fc_w, r.Get("head.fc.weight", {classes, channels}));
  ASSIGN_OR_RETURN(const float* fc_b, r.Get("head.fc.bias", {classes}));
  impl->head_fc = PackMatrix(fc_w, classes, channels);
  impl->head_bias.assign(fc_b, fc_b + classes);
  return BinaryEngine(std::move(impl));
}

Result<BinaryEngine> BinaryEngine::Load(const std::string& path, const EngineOptions& options) {
  ASSIGN_OR_RETURN(std::string bytes, ReadFile(path, uint64_t{4} << 30));
  Result<ModelState> state = UnpackModel(bytes);
  if (!state.ok()) return state.status().WithContext(path);
  Result<BinaryEngine> engine = FromState(*state, options);
  if (!engine.ok()) return engine.status().WithContext(path);
  return engine;
}

BinaryEngine::BinaryEngine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BinaryEngine::BinaryEngine(BinaryEngine&&) noexcept = default;
BinaryEngine& BinaryEngine::operator=(BinaryEngine&&) noexcept = default;
BinaryEngine::~BinaryEngine() = default;

const ModelMeta& BinaryEngine::meta() const { return impl_->meta; }
Isa BinaryEngine::isa() const { return impl_->isa; }
size_t BinaryEngine::WeightBytes() const { return impl_->WeightBytes(); }

size_t BinaryEngine::Impl::WeightBytes() const {
  auto bn_bytes = [](const BnAffine& bn) { return 2 * bn.scale.size() * sizeof(float); };
  size_t bytes = stem_conv.Bytes() + bn_bytes(stem_bn) + bn_bytes(head_bn) + head_fc.Bytes() +
                 head_bias.size() * sizeof(float);
  for (const Block& b : blocks) {
    for (const DenseLayer& l : b.layers) bytes += bn_bytes(l.bn) + l.conv.Bytes();
    bytes += bn_bytes(b.trans_bn) + b.trans_conv.Bytes();
  }
  return bytes;
}

void BinaryEngine::Impl::ForwardOne(const float* chw, float* logits, Workspace& ws,
                                    Profile* profile) const {
  Clock::time_point t0 = Clock::now();
  const int s = meta.input_size;
  // CHW -> HWC.
  ws.hwc.resize(static_cast<size_t>(3) * s * s);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < s * s; ++p) ws.hwc[static_cast<size_t>(p) * 3 + c] = chw[c * s * s + p];
  }
  // Stem.
  int h = ConvOut(s, stem_kernel, stem_stride, stem_pad);
  const int k_cols = stem_kernel * stem_kernel * 3;
  ws.cols.resize(static_cast<size_t>(h) * h * k_cols);
  Im2col(ws.hwc.data(), s, s, 3, stem_kernel, stem_stride, stem_pad, ws.cols.data());
  const Block& first = blocks.front();
  if (large_stem) {
    ws.stem_out.resize(static_cast<size_t>(h) * h * stem_conv.n_padded);
    Gemm(ws.cols.data(), h * h, k_cols, stem_conv, ws.stem_out.data(), stem_conv.n_padded, isa);
    BnRelu(ws.stem_out.data(), h * h, stem_channels, stem_conv.n_padded, stem_bn);
    const int pooled = ConvOut(h, 3, 2, 1);
    ws.x.resize(static_cast<size_t>(pooled) * pooled * first.total_channels);
    MaxPool(ws.stem_out.data(), h, h, stem_channels, stem_conv.n_padded, 3, 2, 1, nullptr, false,
            ws.x.data(), first.total_channels);
    h = pooled;
  } else {
    ws.x.resize(static_cast<size_t>(h) * h * first.total_channels);
    Gemm(ws.cols.data(), h * h, k_cols, stem_conv, ws.x.data(), first.total_channels, isa);
  }
  if (profile) profile->float_s += Seconds(t0);

  int channels = stem_channels;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    const int pixels = h * h;
    const int stride = block.total_channels;
    t0 = Clock::now();
    for (const DenseLayer& layer : block.layers) {
      ws.bits.resize(static_cast<size_t>(pixels) * layer.conv.words);
      PackSigns(ws.x.data(), pixels, channels, stride, layer.bn.scale.data(),
                layer.bn.shift.data(), ws.bits.data(), isa);
      BinaryConv3x3(ws.bits.data(), h, h, layer.conv, ws.x.data() + channels, stride, isa);
      channels += layer.conv.out_channels;
    }
    if (profile) profile->binary_s += Seconds(t0);
    if (!block.has_transition) break;
    t0 = Clock::now();
    const int ph = ConvOut(h, 2, 2, 0);
    ws.pooled.resize(static_cast<size_t>(ph) * ph * channels);
    MaxPool(ws.x.data(), h, h, channels, stride, 2, 2, 0, &block.trans_bn, true, ws.pooled.data(),
            channels);
    const Block& next = blocks[b + 1];
    ws.x.resize(static_cast<size_t>(ph) * ph * next.total_channels);
    Gemm(ws.pooled.data(), ph * ph, channels, block.trans_conv, ws.x.data(), next.total_channels,
         isa);
    channels = block.trans_conv.n;
    h = ph;
    if (profile) profile->float_s += Seconds(t0);
  }
  // Head: BN -> ReLU -> global mean -> dense.
  t0 = Clock::now();
  const int pixels = h * h;
  const int stride = blocks.back().total_channels;
  BnRelu(ws.x.data(), pixels, channels, stride, head_bn);
  ws.head.assign(static_cast<size_t>(channels) + head_fc.n_padded, 0.0f);
  for (int c = 0; c < channels; ++c) {
    double sum = 0;
    for (int p = 0; p < pixels; ++p) sum += ws.x[static_cast<size_t>(p) * stride + c];
    ws.head[c] = static_cast<float>(sum / pixels);
  }
  float* out = ws.head.data() + channels;
  Gemm(ws.head.data(), 1, channels, head_fc, out, head_fc.n_padded, isa);
  for (int o = 0; o < meta.classes; ++o) logits[o] = out[o] + head_bias[o];
  if (profile) profile->float_s += Seconds(t0);
}

void BinaryEngine::Forward(const float* images, int n, float* logits, Profile* profile) const {
  const Impl& m = *impl_;
  const size_t image_size = static_cast<size_t>(3) * m.meta.input_size * m.meta.input_size;
  const int workers = std::min(m.options.threads, n);
  std::vector<Profile> profiles(std::max(1, workers));
  auto run = [&](int worker) {
    // Scratch buffers stay with the thread between calls (no page faults per image); worker
    // threads free theirs when they end.
    thread_local Impl::Workspace ws;
    for (int i = worker; i < n; i += workers) {
      m.ForwardOne(images + i * image_size, logits + static_cast<size_t>(i) * m.meta.classes, ws,
                   profile ? &profiles[worker] : nullptr);
    }
  };
  if (workers <= 1) {
    run(0);
  } else {
    std::vector<std::thread> threads;
    for (int t = 1; t < workers; ++t) threads.emplace_back(run, t);
    run(0);
    for (std::thread& t : threads) t.join();
  }
  if (profile) {
    for (const Profile& p : profiles) {
      profile->binary_s += p.binary_s;
      profile->float_s += p.float_s;
    }
  }
}

}  // namespace fedsmear::infer
