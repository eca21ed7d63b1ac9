#include "tritium/evidence/dsse.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "tritium/json_document.hpp"
#include "tritium/error.hpp"

namespace tritium {
namespace {

using ojson = nlohmann::ordered_json;

std::string layout(const ojson& envelope) { return envelope.dump(2) + "\n"; }

std::string json_quoted(const std::string& s) { return quoted_for_message(s); }

ojson envelope_json(std::string_view payload_type, std::string_view payload, const std::string& key_id,
                    const std::string& signature) {
  ojson e;
  e["payloadType"] = std::string(payload_type);
  e["payload"] = base64_encode(payload);
  e["signatures"] = ojson::array({ojson{{"keyid", key_id}, {"sig", base64_encode(signature)}}});
  return e;
}

const ojson& string_field(const ojson& j, const char* name, const std::string& where) {
  const auto it = j.find(name);
  if (it == j.end()) throw error(errc::parse, "envelope: missing field " + where + name);
  if (!it->is_string()) {
    throw error(errc::parse, "envelope: field " + where + name + ": expected a string, got " + std::string(it->type_name()));
  }
  return *it;
}

}  // namespace

std::string dsse_pae(std::string_view payload_type, std::string_view payload) {
  std::string out = "DSSEv1 ";
  out += std::to_string(payload_type.size());
  out += ' ';
  out += payload_type;
  out += ' ';
  out += std::to_string(payload.size());
  out += ' ';
  out += payload;
  return out;
}

std::string dsse_sign(std::string_view payload_type, std::string_view payload, const report_signing_key& key) {
  return layout(envelope_json(payload_type, payload, key.key_id(), key.sign(dsse_pae(payload_type, payload))));
}

dsse_opened dsse_open(std::string_view envelope, std::span<const report_public_key> trusted) {
  const ojson e = detail::parse_json_document<ojson>(envelope, "envelope");
  if (!e.is_object()) throw error(errc::parse, "envelope: expected a JSON object, got " + std::string(e.type_name()));
  dsse_opened out;
  out.payload_type = string_field(e, "payloadType", "").get<std::string>();
  if (out.payload_type != in_toto_payload_type) {
    throw error(errc::parse, "envelope: field payloadType: expected \"" + std::string(in_toto_payload_type) +
                                 "\", got " + json_quoted(out.payload_type));
  }
  out.payload = base64_decode(string_field(e, "payload", "").get<std::string>(), "envelope: field payload");
  const auto sigs = e.find("signatures");
  if (sigs == e.end() || !sigs->is_array() || sigs->empty()) {
    throw error(errc::parse, "envelope: field signatures: expected a non-empty array");
  }
  const std::string pae = dsse_pae(out.payload_type, out.payload);
  // Every signature must be checkable and valid: one that nobody can check would still be read as an
  // endorsement by whoever opens the file.
  ojson expected_signatures = ojson::array();
  for (std::size_t i = 0; i < sigs->size(); ++i) {
    const ojson& s = (*sigs)[i];
    const std::string where = "signatures[" + std::to_string(i) + "].";
    if (!s.is_object()) throw error(errc::parse, "envelope: " + where.substr(0, where.size() - 1) + ": expected an object");
    const std::string keyid = string_field(s, "keyid", where).get<std::string>();
    const std::string sig = base64_decode(string_field(s, "sig", where).get<std::string>(), "envelope: field " + where + "sig");
    const auto k = std::find_if(trusted.begin(), trusted.end(), [&](const report_public_key& t) { return t.key_id() == keyid; });
    if (k == trusted.end()) {
      std::string known;
      for (const auto& t : trusted) known += (known.empty() ? "" : ", ") + t.key_id();
      throw error(errc::verification_failed, "envelope: " + where.substr(0, where.size() - 1) + " is by an unknown key " +
                                                 json_quoted(keyid) + " (trusted: " +
                                                 (known.empty() ? std::string("none given") : known) +
                                                 "): the report is refused");
    }
    if (!k->verify(pae, sig)) {
      throw error(errc::verification_failed,
                  "envelope: the signature by " + keyid +
                      " does not verify: the statement or its payload type was changed after signing (or the signature was)");
    }
    if (out.key_id.empty()) out.key_id = keyid;
    expected_signatures.push_back(ojson{{"keyid", keyid}, {"sig", s["sig"]}});
  }
  // The signed content is intact; the rest of the file must be exactly what tritium writes around it:
  // no extra fields, no other spelling.
  ojson expected;
  expected["payloadType"] = e["payloadType"];
  expected["payload"] = e["payload"];
  expected["signatures"] = expected_signatures;
  const std::string canonical = layout(expected);
  if (canonical != envelope) {
    const auto diff = std::mismatch(canonical.begin(), canonical.end(), envelope.begin(), envelope.end());
    const auto at = static_cast<std::size_t>(diff.second - envelope.begin());
    throw error(errc::verification_failed,
                "envelope: byte " + std::to_string(at) +
                    " differs from the layout tritium signs (the envelope was edited outside its signed payload)");
  }
  return out;
}

}  // namespace tritium
