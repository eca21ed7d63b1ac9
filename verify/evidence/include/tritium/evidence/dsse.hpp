// tritium/dsse.hpp — DSSE envelopes (Dead Simple Signing Envelope v1, as used by in-toto
// attestations): a payload, its type, and signatures over the pre-authentication encoding
//   PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body
// (LEN = decimal byte count), so verification never depends on how the JSON around it is laid out.
//
// tritium writes one envelope layout byte for byte (fields payloadType, payload, signatures[{keyid,
// sig}], two-space indentation, final newline) and, on opening, also refuses an envelope whose bytes
// differ from that layout: a changed byte anywhere in the file is reported, even where it would not
// change the signed content.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "tritium/evidence/signing.hpp"

namespace tritium {

/// The payload type of in-toto statements.
inline constexpr std::string_view in_toto_payload_type = "application/vnd.in-toto+json";

/// The pre-authentication encoding of DSSE v1.
std::string dsse_pae(std::string_view payload_type, std::string_view payload);

/// The envelope (JSON text ending in a newline) holding `payload`, signed by `key`.
std::string dsse_sign(std::string_view payload_type, std::string_view payload, const report_signing_key& key);

struct dsse_opened {
  std::string payload_type;
  std::string payload;
  std::string key_id;  ///< the trusted key whose signature verified
};

/// Parses and verifies an envelope against the trusted public keys. Throws errc::parse for input that
/// is not an envelope (truncated, not JSON, missing or mistyped fields, invalid base64) and
/// errc::verification_failed when it is one but cannot be trusted (signed by no trusted key, a
/// signature that does not verify, bytes changed outside the signed content). Messages name what is
/// wrong and where (byte offset, field).
dsse_opened dsse_open(std::string_view envelope, std::span<const report_public_key> trusted);

}  // namespace tritium
