// Report signing: Ed25519 against RFC 8032, the DSSE pre-authentication encoding against the DSSE
// specification's example, key files, and an envelope that refuses every single-byte change.
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tritium/evidence/dsse.hpp"
#include "tritium/error.hpp"
#include "tritium/evidence/signing.hpp"

using namespace tritium;
namespace fs = std::filesystem;

namespace {

std::string unhex(const std::string& h) {
  std::string out;
  for (std::size_t i = 0; i < h.size(); i += 2) out += static_cast<char>(std::stoi(h.substr(i, 2), nullptr, 16));
  return out;
}

std::string hex(const std::string& s) {
  static const char d[] = "0123456789abcdef";
  std::string out;
  for (const char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

struct temp_dir {
  fs::path path = fs::temp_directory_path() / ("tritium-dsse-test-" + std::to_string(::getpid()));
  temp_dir() { fs::create_directories(path); }
  ~temp_dir() { fs::remove_all(path); }
};

void write(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary);
  out << text;
}

// RFC 8032 §7.1, TEST 1 (empty message) and TEST 2 (one byte).
constexpr const char* rfc_seed = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
constexpr const char* rfc_public = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";

report_signing_key rfc_key(const temp_dir& dir) {
  nlohmann::json j;
  const std::string pk = unhex(rfc_public);
  std::array<std::uint8_t, 32> bytes{};
  std::copy(pk.begin(), pk.end(), bytes.begin());
  j["type"] = "tritium-report-signing-key";
  j["version"] = 1;
  j["algorithm"] = "ed25519";
  j["key_id"] = report_public_key::from_bytes(bytes).key_id();
  j["public_key"] = base64_encode(pk);
  j["seed"] = base64_encode(unhex(rfc_seed));
  write(dir.path / "rfc.key", j.dump());
  return report_signing_key::load(dir.path / "rfc.key");
}

errc open_error(std::string_view envelope, const std::vector<report_public_key>& trusted, std::string* message = nullptr) {
  try {
    (void)dsse_open(envelope, trusted);
  } catch (const error& e) {
    if (message) *message = e.what();
    return e.code();
  }
  return errc::internal;  // "no error" in these tests
}

}  // namespace

TEST_CASE("Ed25519 signatures match RFC 8032 test vectors", "[dsse]") {
  temp_dir dir;
  const report_signing_key k = rfc_key(dir);
  CHECK(hex(k.sign("")) ==
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
  // TEST 2 uses another key; its public key verifies its signature through report_public_key.
  std::array<std::uint8_t, 32> pk2{};
  const std::string pk2_bytes = unhex("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
  std::copy(pk2_bytes.begin(), pk2_bytes.end(), pk2.begin());
  const auto v = report_public_key::from_bytes(pk2);
  const std::string sig2 = unhex(
      "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00");
  CHECK(v.verify(unhex("72"), sig2));
  CHECK_FALSE(v.verify(unhex("73"), sig2));
  CHECK_FALSE(v.verify(unhex("72"), sig2.substr(0, 63)));
}

TEST_CASE("DSSE pre-authentication encoding matches the specification's example", "[dsse]") {
  CHECK(dsse_pae("http://example.com/HelloWorld", "hello world") == "DSSEv1 29 http://example.com/HelloWorld 11 hello world");
  CHECK(dsse_pae("", "") == "DSSEv1 0  0 ");
}

TEST_CASE("Base64 round-trips and names the offending character", "[dsse]") {
  for (const std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) CHECK(base64_decode(base64_encode(s), "x") == s);
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  try {
    (void)base64_decode("Zm9v*mFy", "field payload");
    FAIL("accepted invalid base64");
  } catch (const error& e) {
    CHECK(e.code() == errc::parse);
    CHECK(std::string(e.what()) == "field payload: invalid base64 at character 4 of 8");
  }
}

TEST_CASE("Report-signing key files: mode 0600, round trip, damage detected", "[dsse]") {
  temp_dir dir;
  const report_signing_key k = report_signing_key::generate();
  k.save(dir.path / "s.key");
  k.public_key().save(dir.path / "s.pub");
  struct stat st {};
  REQUIRE(::stat((dir.path / "s.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK_THROWS_AS(k.save(dir.path / "s.key"), error);  // never replaces a key
  const report_signing_key again = report_signing_key::load(dir.path / "s.key");
  CHECK(again.key_id() == k.key_id());
  CHECK(again.sign("message") == k.sign("message"));  // Ed25519 is deterministic
  const report_public_key pub = report_public_key::load(dir.path / "s.pub");
  CHECK(pub.verify("message", k.sign("message")));
  CHECK(k.key_id().rfind("ed25519:", 0) == 0);
  CHECK(k.key_id().size() == 8 + 32);

  // A signing key given where a public key is expected is refused (it holds a secret).
  CHECK_THROWS_WITH(report_public_key::load(dir.path / "s.key"), Catch::Contains("this is a signing key"));
  // A public key that is not the seed's: the file was damaged.
  nlohmann::json j = nlohmann::json::parse(std::ifstream(dir.path / "s.key"));
  const report_signing_key other = report_signing_key::generate();
  j["public_key"] = base64_encode(std::string(reinterpret_cast<const char*>(other.public_key().bytes().data()), 32));
  j["key_id"] = other.key_id();
  write(dir.path / "bad.key", j.dump());
  try {
    (void)report_signing_key::load(dir.path / "bad.key");
    FAIL("accepted a damaged key");
  } catch (const error& e) {
    CHECK(e.code() == errc::key_corrupt);
  }
  // A key id that is not the public key's.
  nlohmann::json p = nlohmann::json::parse(std::ifstream(dir.path / "s.pub"));
  p["key_id"] = other.key_id();
  write(dir.path / "bad.pub", p.dump());
  CHECK_THROWS_WITH(report_public_key::load(dir.path / "bad.pub"), Catch::Contains("is not the id of its public key"));
}

TEST_CASE("A DSSE envelope opens only unchanged, and only for a trusted key", "[dsse]") {
  const report_signing_key k = report_signing_key::generate();
  const report_signing_key stranger = report_signing_key::generate();
  const std::vector<report_public_key> trusted{k.public_key()};
  const std::string payload = R"({"_type":"https://in-toto.io/Statement/v1","predicate":{"x":[1,2,3],"s":"é"}})";
  const std::string envelope = dsse_sign(in_toto_payload_type, payload, k);
  CHECK(envelope == dsse_sign(in_toto_payload_type, payload, k));  // byte-stable

  const dsse_opened opened = dsse_open(envelope, trusted);
  CHECK(opened.payload == payload);
  CHECK(opened.key_id == k.key_id());

  std::string message;
  CHECK(open_error(dsse_sign(in_toto_payload_type, payload, stranger), trusted, &message) == errc::verification_failed);
  CHECK_THAT(message, Catch::Contains("signatures[0] is by an unknown key \"" + stranger.key_id() + "\""));
  CHECK(open_error(envelope, {}, &message) == errc::verification_failed);

  // Content the signature does not cover is refused, whatever its layout: an extra field, a second
  // signature nobody can check, or a comment inside a signature.
  auto edited = [&](auto&& change) {
    nlohmann::ordered_json e = nlohmann::ordered_json::parse(envelope);
    change(e);
    return e.dump(2) + "\n";
  };
  CHECK(open_error(edited([](auto& e) { e["note"] = "independently confirmed"; }), trusted, &message) ==
        errc::verification_failed);
  CHECK_THAT(message, Catch::Contains("edited outside its signed payload"));
  CHECK(open_error(edited([](auto& e) { e["signatures"][0]["comment"] = "x"; }), trusted) == errc::verification_failed);
  CHECK(open_error(edited([](auto& e) { e["signatures"].push_back({{"keyid", "x"}, {"sig", "AAAA"}}); }), trusted,
                   &message) == errc::verification_failed);
  CHECK_THAT(message, Catch::Contains("signatures[1] is by an unknown key"));
  // Text from the file never reaches a message raw: a key id with terminal escapes is quoted.
  CHECK(open_error(edited([](auto& e) { e["signatures"][0]["keyid"] = "\r\x1b[2Kverified"; }), trusted, &message) ==
        errc::verification_failed);
  CHECK(message.find('\x1b') == std::string::npos);
  CHECK_THAT(message, Catch::Contains("\\u000d\\u001b[2Kverified"));

  CHECK(open_error(dsse_sign("application/json", payload, k), trusted, &message) == errc::parse);
  CHECK(message == "envelope: field payloadType: expected \"application/vnd.in-toto+json\", got \"application/json\"");

  CHECK(open_error(envelope.substr(0, envelope.size() / 2), trusted, &message) == errc::parse);
  CHECK_THAT(message, Catch::Contains("truncated"));

  // Every single-byte change anywhere in the file is refused: as malformed, as a bad signature, or
  // as an edit outside the signed content.
  std::size_t as_parse = 0, as_verification = 0;
  for (std::size_t i = 0; i < envelope.size(); ++i) {
    for (const int flip : {0x01, 0x20}) {
      std::string changed = envelope;
      changed[i] = static_cast<char>(static_cast<unsigned char>(changed[i]) ^ static_cast<unsigned char>(flip));
      const errc code = open_error(changed, trusted);
      INFO("byte " << i << " xor " << flip);
      REQUIRE((code == errc::parse || code == errc::verification_failed));
      (code == errc::parse ? as_parse : as_verification)++;
    }
  }
  CHECK(as_parse > 0);
  CHECK(as_verification > 0);
  // Truncation at every length, and one extra byte, are refused too.
  for (std::size_t n = 0; n < envelope.size(); ++n) REQUIRE(open_error(envelope.substr(0, n), trusted) != errc::internal);
  CHECK(open_error(envelope + " ", trusted) == errc::verification_failed);
}

TEST_CASE("Untrusted text is quoted for messages with every terminal control escaped", "[dsse]") {
  CHECK(quoted_for_message("plain é 中") == "\"plain é 中\"");
  CHECK(quoted_for_message("a\"b\\c") == "\"a\\\"b\\\\c\"");
  CHECK(quoted_for_message("\x1b[2J\a\x7f") == "\"\\u001b[2J\\u0007\\u007f\"");
  CHECK(quoted_for_message("\xc2\x9b" "31m") == "\"\\u009b31m\"");           // C1 CSI
  CHECK(quoted_for_message("abc\xe2\x80\xae" "fed") == "\"abc\\u202efed\"");  // right-to-left override
  CHECK(quoted_for_message("bad\xff") == "\"bad\\ufffd\"");
  CHECK(quoted_for_message("\xed\xa0\x80") == "\"\\ufffd\\ufffd\\ufffd\"");    // a surrogate is not UTF-8
  CHECK_FALSE(has_control_characters("plain \"quoted\" \\ é"));
  CHECK(has_control_characters("\r"));
  CHECK(has_control_characters("\xe2\x81\xa6"));
  CHECK(has_control_characters("\xc3"));
}

TEST_CASE("Envelopes and signing keys follow the whole-document JSON policy", "[dsse][json]") {
  temp_dir dir;
  const report_signing_key k = report_signing_key::generate();
  const std::vector<report_public_key> trusted{k.public_key()};
  const std::string envelope = dsse_sign(in_toto_payload_type, R"({"_type":"x"})", k);
  std::string message;
  // A NUL and what follows it is malformed input, reported where it is (it used to pass the parser
  // and be reported as an edit outside the signed content).
  CHECK(open_error(envelope + std::string(1, '\0') + "{}", trusted, &message) == errc::parse);
  CHECK(message == "envelope: not valid JSON at byte " + std::to_string(envelope.size()) + ": a NUL byte");
  CHECK(open_error(std::string(100000, '['), trusted, &message) == errc::parse);
  CHECK_THAT(message, Catch::Contains("nested deeper than 64 levels"));

  k.save(dir.path / "s.key");
  k.public_key().save(dir.path / "s.pub");
  for (const char* name : {"s.key", "s.pub"}) {
    std::ifstream in(dir.path / name, std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    write(dir.path / "nul", text + std::string(1, '\0') + "garbage");
    INFO(name);
    CHECK_THROWS_WITH(std::string(name) == "s.key" ? (void)report_signing_key::load(dir.path / "nul")
                                                   : (void)report_public_key::load(dir.path / "nul"),
                      Catch::EndsWith("nul: not valid JSON at byte " + std::to_string(text.size()) + ": a NUL byte"));
  }
  // A field with terminal controls is quoted for the message (dump() left C1 controls raw).
  write(dir.path / "odd.pub", "{\"type\": \"\\u009b2J\\u001b[2J\", \"version\": 1}");
  CHECK_THROWS_WITH(report_public_key::load(dir.path / "odd.pub"),
                    Catch::EndsWith("field \"type\": expected \"tritium-report-public-key\", got \"\\u009b2J\\u001b[2J\""));
  write(dir.path / "float.pub", "{\"type\": \"tritium-report-public-key\", \"version\": 1.0}");
  CHECK_THROWS_WITH(report_public_key::load(dir.path / "float.pub"), Catch::EndsWith("expected 1, got 1.0"));
}
