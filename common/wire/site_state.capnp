# fedsmear site state: what a site keeps on disk between its rounds besides its latent weights
# (client/latent_store.h): its optimizer's moments (train/optimizer_state.h), so that a
# restarted site daemon continues its run's Adam trajectory (client/optimizer_store.h).
# A persistent format, versioned on its own like checkpoint.capnp.
#
# File layout (models/capnp_file.h): the 8 bytes "FSOPTS1\n", one unpacked Cap'n Proto
# flat-array message whose root is OptimizerState, then the SHA-256 of everything before it.
# Little-endian whatever the host. Format history:
#   1  this schema.
# formatVersion repeats the magic's number inside the message; a reader refuses a version it
# does not know. Fields may be added at the end of a struct; a change of meaning bumps the format.

@0x96d3c6cb68cb9a72;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fedsmear::wire::site_state");

using Ck = import "checkpoint.capnp";

const formatVersion :UInt32 = 1;

struct OptimizerState {
  formatVersion @0 :UInt32;   # = formatVersion above
  runId @1 :Text;             # the run the moments belong to; a site in another run ignores them
  step @2 :Int64;             # Adam's step count (bias correction); 0 for SGD
  first @3 :List(Ck.Tensor);  # Adam exp_avg or SGD momentum, by parameter name (kind 0)
  second @4 :List(Ck.Tensor); # Adam exp_avg_sq (empty for SGD)
}
