// tritium/hf_synthid_bayesian.hpp — transformers' Bayesian SynthID detector (`BayesianDetectorModel`):
// trained with Eigen, or loaded from the weights transformers saves (model.safetensors).
//
// The model (papers/hf-synthid.md §6; Dathathri et al., Nature 2024, "BayesianScore"): for a counted
// position t and layer l, ψ_tl = σ(β_l + Σ_{k<l} δ_lk g_tk) is the chance that layer l's match had two
// distinct tokens; then P(g | watermarked) = ½((g + ½)ψ + 1 − ψ) and P(g | not) = ½. The score is the
// posterior σ(logit(prior) + Σ_t Σ_l [ln P(g_tl | w) − ln ½]).
//
// **Its score is not a p-value.** It depends on the prior and on how the model was trained, and nothing
// bounds how often it is high on unwatermarked text. tritium reports it beside the exact key-shift
// p-value of hf_synthid_detect, which alone decides (detect_options never read it).
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <vector>

namespace tritium {

class hf_synthid_bayesian {
 public:
  /// An untrained model of `depth` layers: β = −2.5, δ = 0 (transformers' initial values without its
  /// 0.001·N(0, 1) jitter), prior in (0, 1).
  explicit hf_synthid_bayesian(std::uint32_t depth, double prior = 0.5);

  /// The weights of a saved `BayesianDetectorModel` (safetensors: `likelihood_model_watermarked.beta`
  /// [1, 1, m], `likelihood_model_watermarked.delta` [1, 1, m, m] and `prior` [1], F32 or F64, with or
  /// without a `model.` prefix). Throws errc::io (unreadable) or errc::parse naming the file, the
  /// tensor and what is wrong (a bad header, a missing tensor, a shape, a byte range).
  static hf_synthid_bayesian load_safetensors(const std::filesystem::path& path);

  std::uint32_t depth() const noexcept { return depth_; }
  double prior() const noexcept { return prior_; }
  const std::vector<double>& beta() const noexcept { return beta_; }
  /// δ row-major, depth × depth; only the strictly lower triangle (k < l) is read.
  const std::vector<double>& delta() const noexcept { return delta_; }

  /// Σ_t Σ_l [ln P(g_tl | w) − ln ½] over counted positions: `g` holds `positions` rows of depth()
  /// values in {0, 1} (hf_synthid_counted_g_values). Throws errc::invalid_argument on a size mismatch.
  double log_odds(std::span<const std::uint8_t> g) const;
  /// σ(logit(prior clamped to [1e-5, 1 − 1e-5]) + log_odds(g)), as transformers computes it.
  double posterior(std::span<const std::uint8_t> g) const;

  struct training_options {
    std::uint32_t epochs = 300;
    double learning_rate = 0.03;   ///< Adam's step
    double l2 = 1e-3;              ///< weight of Σ δ² in the loss (transformers' loss_batch_weight)
  };
  /// Fits β and δ (the prior stays) by full-batch Adam on transformers' loss: the binary cross-entropy
  /// of the clamped posterior against `labels` (1: watermarked), plus l2·Σ δ². `documents[i]` holds the
  /// counted g-values of document i. Deterministic. Returns the final loss.
  double train(const std::vector<std::vector<std::uint8_t>>& documents, std::span<const std::uint8_t> labels,
               const training_options& options);

 private:
  std::uint32_t depth_;
  double prior_;
  std::vector<double> beta_;
  std::vector<double> delta_;
};

}  // namespace tritium
