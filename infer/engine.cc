#include "infer/engine.h"

#include <algorithm>
#include <chrono>

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
  for (const Block& block : impl->blocks) {
    if (block.layers.empty()) {
      return InvalidArgument("architecture " + arch.name + " has an empty block");
    }
  }
  impl->PlanBuffers();
  if (impl->options.threads > 1) impl->pool = std::make_unique<ThreadPool>(impl->options.threads);
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

void BinaryEngine::Impl::PlanBuffers() {
  const int s = meta.input_size;
  int h = ConvOut(s, stem_kernel, stem_stride, stem_pad);
  stem_out_size = h;
  if (large_stem) h = ConvOut(h, 3, 2, 1);
  for (const Block& block : blocks) {
    const size_t pixels = static_cast<size_t>(h) * h;
    max_map_floats = std::max(max_map_floats, pixels * block.total_channels);
    for (const DenseLayer& l : block.layers) {
      max_bits_words = std::max(max_bits_words, pixels * l.conv.words);
    }
    if (block.has_transition) h = ConvOut(h, 2, 2, 0);
  }
}

BinaryEngine::Impl::Workspace& BinaryEngine::Impl::ThreadWorkspace() {
  // Pool threads free theirs when the engine joins them, callers' when they end.
  thread_local Workspace ws;
  return ws;
}

void BinaryEngine::Impl::ForwardOne(const float* chw, float* logits, Workspace& ws,
                                    Profile* profile, ThreadPool* pool) const {
  Clock::time_point t0 = Clock::now();
  const int s = meta.input_size;
  // CHW -> HWC.
  ws.hwc.resize(static_cast<size_t>(3) * s * s);
  for (int c = 0; c < 3; ++c) {
    for (int p = 0; p < s * s; ++p) ws.hwc[static_cast<size_t>(p) * 3 + c] = chw[c * s * s + p];
  }
  for (int i = 0; i < 2; ++i) {
    ws.x[i].resize(max_map_floats);
    ws.bits[i].resize(max_bits_words);
  }
  // Each region below computes its output pixels and, from them, what the next one reads: the
  // packed signs of the next binary convolution (into the bits buffer it does not read).
  int xi = 0, bi = 0;
  float* x = ws.x[0].data();
  const Block& first = blocks.front();
  const DenseLayer& first_layer = first.layers.front();
  auto pack = [&](const float* map, int stride, int channels, const DenseLayer& layer,
                  uint64_t* bits, PixelRange r) {
    PackSigns(map + static_cast<size_t>(r.begin) * stride, r.end - r.begin, channels, stride,
              layer.bn.scale.data(), layer.bn.shift.data(),
              bits + static_cast<size_t>(r.begin) * layer.conv.words, isa);
  };
  // Stem.
  int h = stem_out_size;
  const int k_cols = stem_kernel * stem_kernel * 3;
  ws.cols.resize(static_cast<size_t>(h) * h * k_cols);
  const float* hwc = ws.hwc.data();
  float* cols = ws.cols.data();
  if (large_stem) {
    const int np = stem_conv.n_padded;
    ws.stem_out.resize(static_cast<size_t>(h) * h * np);
    float* stem_out = ws.stem_out.data();
    SplitPixels(pool, h * h, [&](PixelRange r) {
      const int m = r.end - r.begin;
      Im2col(hwc, s, s, 3, stem_kernel, stem_stride, stem_pad, r, cols);
      float* out = stem_out + static_cast<size_t>(r.begin) * np;
      Gemm(cols + static_cast<size_t>(r.begin) * k_cols, m, k_cols, stem_conv, out, np, isa);
      BnRelu(out, m, stem_channels, np, stem_bn);
    });
    const int pooled = ConvOut(h, 3, 2, 1);
    SplitPixels(pool, pooled * pooled, [&](PixelRange r) {
      MaxPool(stem_out, h, h, stem_channels, np, 3, 2, 1, nullptr, false, r, x,
              first.total_channels);
      pack(x, first.total_channels, stem_channels, first_layer, ws.bits[0].data(), r);
    });
    h = pooled;
  } else {
    SplitPixels(pool, h * h, [&](PixelRange r) {
      Im2col(hwc, s, s, 3, stem_kernel, stem_stride, stem_pad, r, cols);
      Gemm(cols + static_cast<size_t>(r.begin) * k_cols, r.end - r.begin, k_cols, stem_conv,
           x + static_cast<size_t>(r.begin) * first.total_channels, first.total_channels, isa);
      pack(x, first.total_channels, stem_channels, first_layer, ws.bits[0].data(), r);
    });
  }
  if (profile) profile->float_s += Seconds(t0);

  int channels = stem_channels;
  for (size_t b = 0; b < blocks.size(); ++b) {
    const Block& block = blocks[b];
    const int pixels = h * h;
    const int stride = block.total_channels;
    t0 = Clock::now();
    for (size_t l = 0; l < block.layers.size(); ++l) {
      const DenseLayer& layer = block.layers[l];
      const DenseLayer* next = l + 1 < block.layers.size() ? &block.layers[l + 1] : nullptr;
      const uint64_t* act = ws.bits[bi].data();
      uint64_t* next_bits = ws.bits[bi ^ 1].data();
      const int next_channels = channels + layer.conv.out_channels;
      SplitPixels(pool, pixels, [&](PixelRange r) {
        BinaryConv3x3(act, h, h, layer.conv, r, x + channels, stride, isa);
        if (next != nullptr) pack(x, stride, next_channels, *next, next_bits, r);
      });
      bi ^= 1;
      channels = next_channels;
    }
    if (profile) profile->binary_s += Seconds(t0);
    if (!block.has_transition) break;
    t0 = Clock::now();
    const int ph = ConvOut(h, 2, 2, 0);
    const Block& next = blocks[b + 1];
    ws.pooled.resize(static_cast<size_t>(ph) * ph * channels);
    float* pooled = ws.pooled.data();
    float* next_x = ws.x[xi ^ 1].data();
    uint64_t* next_bits = ws.bits[bi].data();
    SplitPixels(pool, ph * ph, [&](PixelRange r) {
      MaxPool(x, h, h, channels, stride, 2, 2, 0, &block.trans_bn, true, r, pooled, channels);
      Gemm(pooled + static_cast<size_t>(r.begin) * channels, r.end - r.begin, channels,
           block.trans_conv, next_x + static_cast<size_t>(r.begin) * next.total_channels,
           next.total_channels, isa);
      pack(next_x, next.total_channels, block.trans_conv.n, next.layers.front(), next_bits, r);
    });
    xi ^= 1;
    x = next_x;
    channels = block.trans_conv.n;
    h = ph;
    if (profile) profile->float_s += Seconds(t0);
  }
  // Head: BN -> ReLU -> global mean -> dense (a few pixels: on this thread).
  t0 = Clock::now();
  const int pixels = h * h;
  const int stride = blocks.back().total_channels;
  BnRelu(x, pixels, channels, stride, head_bn);
  ws.head.assign(static_cast<size_t>(channels) + head_fc.n_padded, 0.0f);
  for (int c = 0; c < channels; ++c) {
    double sum = 0;
    for (int p = 0; p < pixels; ++p) sum += x[static_cast<size_t>(p) * stride + c];
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
  const size_t classes = static_cast<size_t>(m.meta.classes);
  ThreadPool* pool = m.pool.get();
  const int threads = pool ? pool->threads() : 1;
  // Images [0, across) one per thread, the rest one after another with split layers.
  int across = 0;
  switch (m.options.split) {
    case ThreadSplit::kAuto: across = n / threads * threads; break;
    case ThreadSplit::kImages: across = n; break;
    case ThreadSplit::kLayers: across = 0; break;
  }
  if (threads == 1) across = n;
  std::vector<Profile> profiles(threads);
  ForEachTask(pool, across, [&](int i, int worker) {
    m.ForwardOne(images + i * image_size, logits + i * classes, Impl::ThreadWorkspace(),
                 profile ? &profiles[worker] : nullptr, nullptr);
  });
  for (int i = across; i < n; ++i) {
    m.ForwardOne(images + i * image_size, logits + i * classes, Impl::ThreadWorkspace(),
                 profile ? &profiles[0] : nullptr, pool);
  }
  if (profile) {
    for (const Profile& p : profiles) {
      profile->binary_s += p.binary_s;
      profile->float_s += p.float_s;
    }
  }
}

}  // namespace fedsmear::infer
