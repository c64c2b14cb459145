# fedsmear coordinator checkpoint: everything needed to continue a run after a crash, one file
# per completed round (coordinator/checkpoint.h). A persistent format, separate from the wire
# protocol (fedsmear.capnp) and versioned on its own.
#
# File layout: the 8 bytes "FSCKPT2\n" (magic and format number), then one unpacked Cap'n Proto
# flat-array message whose root is Checkpoint, then the SHA-256 of everything before it.
# Cap'n Proto stores every number little-endian whatever the host, so a checkpoint moves
# between machines. Format history:
#   1  hand-rolled (magic "FSCKPT1\n", native-endian sizes and floats); refused on load.
#   2  this schema.
# formatVersion repeats the magic's number inside the message; a reader refuses a version it does
# not know. Fields may be added at the end of a struct (older readers ignore them); a change of
# meaning bumps the format.

@0xcc0616dd68c04878;

using Cxx = import "/capnp/c++.capnp";
$Cxx.namespace("fedsmear::wire::checkpoint");

const formatVersion :UInt32 = 2;

struct Tensor {
  name @0 :Text;
  shape @1 :List(Int64);
  kind @2 :UInt8;             # models/model_state.h TensorKind: 0 float, 1 binary latent, 2 stat
  values @3 :List(Float32);   # row-major, product(shape) values; binary ones as latent fp32
}

struct Model {
  arch @0 :Text;
  classes @1 :Int32;
  inputSize @2 :Int32;
  classNames @3 :List(Text);
  tensors @4 :List(Tensor);
}

struct Checkpoint {
  formatVersion @0 :UInt32;   # = formatVersion above
  round @1 :Int32;            # last completed round
  header @2 :Text;            # JSON: RNG, schedule state and run bookkeeping (coordinator-owned)
  strategyState @3 :Data;     # Strategy::SaveState(): the strategy's own little-endian bytes
  model @4 :Model;            # the global model after `round`
}
