// The FUSE-over-io_uring kernel ABI (protocol 7.42, Linux >= 6.14; see the kernel's
// Documentation/filesystems/fuse-io-uring.rst). Debian 12's <linux/fuse.h> (7.38) predates it,
// so the few definitions used here are spelled out.
#pragma once

#include <cstdint>

namespace tessera::nydusd::uring_abi {

// INIT reply flag (bit 41: flags2 bit 9, with FUSE_INIT_EXT set in flags).
constexpr uint64_t kOverIoUring = 1ull << 41;
constexpr uint32_t kInitExt = 1u << 30;

// IORING_OP_URING_CMD commands on /dev/fuse.
constexpr uint32_t kCmdRegister = 1;        // register an entry's buffers, wait for a request
constexpr uint32_t kCmdCommitAndFetch = 2;  // answer the entry's request, wait for the next

constexpr size_t kInOutHeaderSize = 128;  // fuse_in_header on fetch, fuse_out_header on commit
constexpr size_t kOpInSize = 128;         // the opcode's fixed argument struct (in_args[0])

struct EntInOut {
  uint64_t flags;
  uint64_t commit_id;   // the request's unique, echoed by the commit
  uint32_t payload_sz;  // valid payload bytes, both directions
  uint32_t padding;
  uint64_t reserved;
};

// iov[0] of an entry.
struct ReqHeader {
  char in_out[kInOutHeaderSize];
  char op_in[kOpInSize];
  EntInOut ring_ent_in_out;
};

// The command area (80 bytes) of a 128-byte SQE.
struct CmdReq {
  uint64_t flags;
  uint64_t commit_id;
  uint16_t qid;
  uint8_t padding[6];
};

static_assert(sizeof(EntInOut) == 32);
static_assert(sizeof(ReqHeader) == 288);
static_assert(sizeof(CmdReq) == 24);

}  // namespace tessera::nydusd::uring_abi
