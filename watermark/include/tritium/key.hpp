// tritium/key.hpp — watermark keys: a 256-bit secret plus the public parameters detection must match.
//
// A key file is JSON with mode 0600. It holds the secret (hex), the public parameters, the key id and
// an HMAC over the parameters, so that a truncated or edited file is refused on load. The key id is a
// one-way commitment to the secret (SHA-256 with a domain prefix, papers/prf-v1.md §2): it names the
// key in outputs and reports without revealing it. The secret is never printed, logged or put in an
// error message; `key::public_json()` is the only serialisation meant for humans.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "tritium/trace.hpp"

namespace tritium {

/// How the PRF context of a token is formed (Kirchenbauer et al. 2023 §2; Reliability paper §3).
enum class seeding : std::uint8_t {
  lefthash = 1,  ///< the previous h tokens
  selfhash = 2,  ///< anchored min-hash over the previous h tokens, salted with the candidate itself
};

const char* seeding_name(seeding s) noexcept;
std::optional<seeding> seeding_from_name(const std::string& name) noexcept;

/// The schemes one secret can embed and be tested with (papers/key-file-v1.md §1.2). Each derives its
/// own subkeys from the secret under its own labels, so one key may name several.
enum class scheme_kind : std::uint8_t {
  kgw = 0,      ///< green lists by context (papers/prf-v1.md, papers/kgw.md)
  gumbel = 1,   ///< exponential-minimum sampling (papers/gumbel-v1.md)
  unigram = 2,  ///< one fixed green list (papers/unigram-v1.md)
};
inline constexpr std::size_t scheme_kinds = 3;
/// A set of schemes: bit k for scheme_kind k.
using scheme_set = std::uint8_t;
inline constexpr scheme_set scheme_bit(scheme_kind s) noexcept {
  return static_cast<scheme_set>(1u << static_cast<unsigned>(s));
}
inline constexpr scheme_set all_schemes = (1u << scheme_kinds) - 1;

const char* scheme_name(scheme_kind s) noexcept;
std::optional<scheme_kind> scheme_from_name(const std::string& name) noexcept;
/// The members of `set` in the canonical order (kgw, gumbel, unigram).
std::vector<scheme_kind> schemes_in(scheme_set set);
/// "kgw, gumbel": the names of `set`'s members, for messages.
std::string scheme_list_text(scheme_set set);

/// Default KGW parameters: γ = 0.25, δ = 2 as recommended by the lm-watermarking README
/// (Kirchenbauer et al. 2023, "A Watermark for Large Language Models", §6 and their reference code).
inline constexpr double kgw_default_gamma = 0.25;
inline constexpr double kgw_default_delta = 2.0;
inline constexpr std::uint32_t kgw_default_context_width = 1;

/// Public KGW parameters. γ is stored exactly as gamma_threshold / 2^gamma_bits (papers/prf-v1.md §4):
/// every token is green with that exact probability under the null, whatever the vocabulary size.
struct kgw_params {
  std::uint32_t gamma_bits = 2;       ///< b ∈ {1, 2, 4, 8, 16}: PRF bits spent per token
  std::uint32_t gamma_threshold = 1;  ///< T ∈ [1, 2^b): a token is green iff its lane < T
  double delta = kgw_default_delta;   ///< logit bias added to green tokens, ≥ 0
  std::uint32_t context_width = kgw_default_context_width;  ///< h ≥ 1
  seeding seeding_scheme = seeding::lefthash;
  /// V ≥ 2: the width of the logits the key watermarks (the model's output rows), which may exceed
  /// its tokenizer's id count (Qwen3: 151,936 logits, 151,669 ids); token ids are in [0, V).
  std::uint32_t vocab_size = 0;
  std::string tokenizer_digest;      ///< "sha256:<64 hex>" of the tokenizer the key is bound to, or empty
  std::uint32_t tokenizer_vocab_size = 0;  ///< ids of that tokenizer (0: not bound); ≤ vocab_size
  /// The schemes the key embeds with and is tested for (non-empty; key files without `schemes`:
  /// KGW alone). Gumbel and Unigram read γ, δ, h and V from the fields above as they apply.
  scheme_set schemes = scheme_bit(scheme_kind::kgw);

  bool names(scheme_kind s) const noexcept { return (schemes & scheme_bit(s)) != 0; }

  /// γ as a real number: gamma_threshold / 2^gamma_bits.
  double gamma() const noexcept;

  /// Represents γ ∈ (0, 1) with the fewest lane bits that hold it exactly, or rounds it to 16 bits.
  /// Throws errc::invalid_argument outside (0, 1) or when γ rounds to 0 or 1.
  void set_gamma(double gamma);

  /// Throws errc::invalid_argument naming the first field outside its documented range.
  void validate() const;
};

/// Where a new key's V comes from (papers/key-file-v1.md §3): 0 means "not given".
struct key_vocab_sources {
  std::uint32_t requested = 0;      ///< an explicit V (`keygen --vocab-size`)
  std::uint32_t model_width = 0;    ///< the logits width of the model the key is for (`keygen --model`)
  std::uint32_t tokenizer_ids = 0;  ///< the id count of the tokenizer the key is bound to
};

/// The V chosen for a new key and what gave it.
struct key_vocab_choice {
  std::uint32_t vocab_size = 0;
  enum class origin : std::uint8_t { requested, model, tokenizer } from = origin::requested;
};

/// The one vocabulary-size rule: a key's V is the width of the logits it watermarks, set once at
/// keygen from an explicit V, a model's width or (failing both) the tokenizer's id count. Throws
/// errc::invalid_argument when nothing gives V or an explicit V disagrees with the model's width
/// (a usage error: two options name different numbers), errc::mismatch when the tokenizer has more
/// ids than V. Messages name both numbers and the fix.
key_vocab_choice choose_key_vocab_size(const key_vocab_sources& sources);

/// The trace parameters `keygen --trace` writes for a key with KGW parameters `p`: the defaults of
/// papers/trace-v1.md §1, with the position width raised to max(h, 3) so that a position window never
/// sees less context than the key's green lists (papers/attribution.md §6.1).
trace_params trace_defaults_for(const kgw_params& p) noexcept;

/// Result flags of loading a key file.
struct key_load_info {
  bool permissions_too_open = false;  ///< the file is readable by group or others
};

/// A watermark key. Movable and copyable; the secret is wiped from memory on destruction.
class key {
 public:
  static constexpr std::size_t secret_size = 32;

  /// A new key with 256 bits from libsodium's CSPRNG.
  /// `trace`: the key's account-tracing parameters (papers/trace-v1.md), stored in the key file's
  /// `params.trace` and covered by its MAC; without them the key cannot mark accounts.
  static key generate(const kgw_params& params,
                      const std::optional<trace_params>& trace = std::nullopt);

  /// A key from explicit secret bytes (for tests and known-answer vectors; production keys come from
  /// `generate`).
  static key from_secret(const std::array<std::uint8_t, secret_size>& secret,
                         const kgw_params& params,
                         const std::optional<trace_params>& trace = std::nullopt);

  /// Loads and checks a key file. Throws errc::io (missing/unreadable), errc::parse (not a key file)
  /// or errc::key_corrupt (truncated, edited, or key id/HMAC mismatch). The file is read strictly:
  /// exactly one JSON document, every field of its JSON type (integers as JSON integers in range),
  /// no unknown or repeated fields; messages name the field.
  static key load(const std::filesystem::path& path, key_load_info* info = nullptr);

  /// Writes the key file with mode 0600 through a temporary file and a rename; refuses to replace an
  /// existing file unless `overwrite`.
  void save(const std::filesystem::path& path, bool overwrite = false) const;

  key(const key&) = default;
  key& operator=(const key&) = default;
  key(key&&) noexcept = default;
  key& operator=(key&&) noexcept = default;
  ~key();

  const kgw_params& params() const noexcept { return params_; }

  /// The key's account-tracing parameters, or nullptr for a key made without `keygen --trace`.
  /// The pointer lives as long as the key.
  const trace_params* trace() const noexcept { return trace_ ? &*trace_ : nullptr; }

  /// Throws errc::mismatch unless the key has trace parameters; the message names the key and the
  /// fix (`tritium keygen --trace`). `what` says what needed them ("account", "--account").
  void require_trace(const std::string& what) const;

  /// Throws errc::mismatch unless the key names scheme `s` (params.schemes); the message names the
  /// key, the schemes it names and the fix. `what` says what needed it ("KGW embedding").
  void require_scheme(scheme_kind s, const std::string& what) const;

  /// 64 hex digits: SHA-256("tritium/v1/key-id" || 0x00 || secret).
  const std::string& id() const noexcept { return id_; }

  /// A key with the same public parameters and the secret HKDF-Expand-SHA256(secret, label), e.g.
  /// the control keys of a radioactivity test.
  key derive(const std::string& label) const;

  /// The public part as JSON text (scheme, PRF version, parameters, key id); never the secret.
  std::string public_json() const;

  /// Throws errc::mismatch unless the key was made for `vocab_size`, naming both and the fix.
  void require_vocab_size(std::uint32_t vocab_size) const;

  /// Throws errc::mismatch unless V equals the logits width of the model `model_name` (a file name,
  /// for the message), naming both numbers and the fix (`keygen --model`).
  void require_logits_width(std::uint32_t width, const std::string& model_name) const;

  /// Throws errc::mismatch when the tokenizer `tokenizer_name` has more ids than V: some of its
  /// tokens would have no logit to watermark. The message names both numbers and the fix.
  void require_tokenizer_ids(std::uint32_t tokenizer_ids, const std::string& tokenizer_name) const;

  /// Throws errc::mismatch when both digests are known and differ.
  void require_tokenizer(const std::string& tokenizer_digest) const;

  /// Raw secret bytes, for the PRF only.
  const std::array<std::uint8_t, secret_size>& secret_bytes() const noexcept { return secret_; }

 private:
  key(const std::array<std::uint8_t, secret_size>& secret, const kgw_params& params,
      const std::optional<trace_params>& trace = std::nullopt);

  std::array<std::uint8_t, secret_size> secret_{};
  kgw_params params_;
  std::optional<trace_params> trace_;
  std::string id_;
};

}  // namespace tritium
