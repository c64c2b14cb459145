// `fedsmear keygen`.
#include "tools/net_commands.h"

#include <iostream>
#include <memory>
#include <string>

#include "common/net/keys.h"
#include "secagg/crypto.h"

namespace fedsmear {
namespace {

struct KeygenArgs {
  std::string out_dir;
  std::string name;
  bool force = false;
};

}  // namespace

Result<SigningKeyHex> GenerateSigningKey() {
  ASSIGN_OR_RETURN(secagg::Secret32 seed, secagg::RandomSecret32());
  ASSIGN_OR_RETURN(secagg::Ed25519KeyPair pair, secagg::Ed25519KeyPair::FromPrivate(seed));
  const auto& pub = pair.public_key();
  SigningKeyHex out;
  out.public_key =
      HexEncode(std::string_view(reinterpret_cast<const char*>(pub.data()), pub.size()));
  out.secret_seed =
      HexEncode(std::string_view(reinterpret_cast<const char*>(seed.data()), seed.size()));
  return out;
}

namespace {

int RunKeygen(const KeygenArgs& args) {
  if (!CurveAvailable()) {
    std::cerr << "fedsmear keygen: libzmq was built without CURVE support\n";
    return 1;
  }
  const KeyPair keys = GenerateKeyPair();
  if (Status st = WriteKeyPairFiles(keys, args.out_dir, args.name, args.force); !st.ok()) {
    std::cerr << "fedsmear keygen: " << st.message() << "\n";
    return 1;
  }
  Result<SigningKeyHex> sign = GenerateSigningKey();
  Status st =
      sign.ok() ? WriteSigningKeyFiles(*sign, args.out_dir, args.name, args.force) : sign.status();
  if (!st.ok()) {
    std::cerr << "fedsmear keygen: " << st.message() << "\n";
    return 1;
  }
  const std::string base = args.out_dir + "/" + args.name;
  std::cout << "wrote " << base << ".key (secret, mode 0600) and " << base << ".pub (CurveZMQ)\n"
            << "wrote " << base << ".sign.key (secret, mode 0600) and " << base
            << ".sign.pub (Ed25519, secure aggregation)\n"
            << "allowed_sites line: " << args.name << " " << keys.public_key << " "
            << sign->public_key << "\n";
  return 0;
}

}  // namespace

Command AddKeygenCommand(CLI::App& root) {
  auto args = std::make_shared<KeygenArgs>();
  CLI::App* app = root.add_subcommand(
      "keygen",
      "Create a CurveZMQ key pair (NAME.key, NAME.pub) and an Ed25519 signing key pair "
      "(NAME.sign.key, NAME.sign.pub)");
  app->add_option("--out", args->out_dir, "Directory for the key files")->required();
  app->add_option("--name", args->name, "Key name: site id or 'coordinator'")->required();
  app->add_flag("--force", args->force, "Replace existing key files");
  return Command{app, [args] { return RunKeygen(*args); }};
}

}  // namespace fedsmear
