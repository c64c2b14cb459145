// transport_bench: what CurveZMQ costs per message, on the coordinator's own endpoints.
//
//   BM_Downlink/<secure>/<bytes>   RouterEndpoint::Send of one message and DealerEndpoint::Receive
//                                  of it (coordinator -> site), over tcp://127.0.0.1
//   BM_Uplink/<secure>/<bytes>     DealerEndpoint::Send and RouterEndpoint::Receive (site ->
//                                  coordinator)
// secure = 1: CURVE server with a ZAP allowlist, as deployed; 0: --insecure (plain TCP).
// Sizes: a bdn28 f32 model/update (18.3 MB) and a compact one (1.3 MB, sign1+f16). Wall time
// per message; bytes/s is the message rate. The CurveZMQ cost of a message is the secure time
// minus the plain time at the same size: scripts/bench sets it against a bdn28 round.
//
// One process, one thread driving both ends (libzmq's I/O threads do the encryption and the
// copying), so the figures include one loopback copy each way in both modes.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>

#include "common/net/dealer.h"
#include "common/net/router.h"
#include "common/wire/messages.h"

namespace fedsmear {
namespace {

using namespace std::chrono_literals;

void Die(const std::string& what, const Status& s) {
  std::cerr << "transport_bench: " << what << ": " << s << "\n";
  std::abort();
}

// A connected router/dealer pair; the router knows the dealer's routing id.
struct Link {
  RouterEndpoint router;
  DealerEndpoint dealer;
  std::string peer_id;
};

Link Connect(bool secure) {
  const KeyPair server = GenerateKeyPair();
  const KeyPair site = GenerateKeyPair();
  RouterOptions ro;
  ro.endpoint = "tcp://127.0.0.1:*";
  ro.insecure = !secure;
  ro.linger = 0ms;
  if (secure) {
    ro.server_keys = server;
    ro.allowed_sites = {{"site-1", site.public_key, ""}};
  }
  auto router = RouterEndpoint::Bind(ro);
  if (!router.ok()) Die("bind", router.status());
  DealerOptions d;
  d.endpoint = router->endpoint();
  d.insecure = !secure;
  d.linger = 0ms;
  if (secure) {
    d.client_keys = site;
    d.server_public_key = server.public_key;
  }
  auto dealer = DealerEndpoint::Connect(d);
  if (!dealer.ok()) Die("connect", dealer.status());
  wire::Hello hello;
  hello.site_id = "site-1";
  hello.software_version = "bench";
  const std::string hello_bytes = wire::Encode(wire::Message{wire::kProtocolVersion, "", hello});
  if (Status s = dealer->Send(hello_bytes, 10s); !s.ok()) Die("hello", s);
  auto in = router->Receive(10s);
  if (!in.ok() || !in->has_value()) Die("hello not received", in.status());
  return Link{std::move(*router), std::move(*dealer), (*in)->peer_id};
}

void BM_Downlink(benchmark::State& state) {
  Link link = Connect(state.range(0) != 0);
  const std::string payload(static_cast<size_t>(state.range(1)), 'x');
  for (auto _ : state) {
    if (Status s = link.router.Send(link.peer_id, payload, 30s); !s.ok()) Die("send", s);
    auto got = link.dealer.Receive(30s);
    if (!got.ok() || !got->has_value() || (*got)->size() != payload.size()) {
      Die("receive", got.status());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}

void BM_Uplink(benchmark::State& state) {
  Link link = Connect(state.range(0) != 0);
  const std::string payload(static_cast<size_t>(state.range(1)), 'x');
  for (auto _ : state) {
    if (Status s = link.dealer.Send(payload, 30s); !s.ok()) Die("send", s);
    auto got = link.router.Receive(30s);
    if (!got.ok() || !got->has_value() || (*got)->bytes.size() != payload.size()) {
      Die("receive", got.status());
    }
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * state.range(1));
}

// bdn28, 8 classes: f32 update 18,312,540 B; sign1+f16 downlink 1,283,199 B.
constexpr int64_t kFloatBytes = 18312540;
constexpr int64_t kCompactBytes = 1283199;

BENCHMARK(BM_Downlink)
    ->ArgsProduct({{0, 1}, {kCompactBytes, kFloatBytes}})
    ->ArgNames({"secure", "bytes"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
BENCHMARK(BM_Uplink)
    ->ArgsProduct({{0, 1}, {kCompactBytes, kFloatBytes}})
    ->ArgNames({"secure", "bytes"})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace fedsmear

BENCHMARK_MAIN();
