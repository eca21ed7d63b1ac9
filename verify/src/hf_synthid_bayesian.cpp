#include "tritium/hf_synthid_bayesian.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>

#include "tritium/error.hpp"

namespace tritium {

namespace {

using matrix = Eigen::MatrixXd;
using vector = Eigen::VectorXd;

double clamped_prior(double prior) { return std::clamp(prior, 1e-5, 1.0 - 1e-5); }

double sigmoid(double x) { return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x)); }

/// The document's g-values as a positions × depth matrix of doubles.
matrix as_matrix(std::span<const std::uint8_t> g, std::uint32_t depth) {
  if (depth == 0 || g.size() % depth != 0) {
    throw error(errc::invalid_argument, "hf_synthid_bayesian: expected whole rows of " + std::to_string(depth) +
                                            " g-values, got " + std::to_string(g.size()));
  }
  const auto rows = static_cast<Eigen::Index>(g.size() / depth);
  matrix m(rows, depth);
  for (Eigen::Index t = 0; t < rows; ++t) {
    for (Eigen::Index l = 0; l < depth; ++l) {
      const std::uint8_t v = g[static_cast<std::size_t>(t) * depth + static_cast<std::size_t>(l)];
      if (v > 1) throw error(errc::invalid_argument, "hf_synthid_bayesian: a g-value is 0 or 1, got " + std::to_string(v));
      m(t, l) = v;
    }
  }
  return m;
}

/// Z = G·Lᵀ + 1·βᵀ with L the strictly lower triangle of δ: z_tl = β_l + Σ_{k<l} δ_lk g_tk.
matrix latents(const matrix& g, const vector& beta, const matrix& delta) {
  const matrix lower = delta.triangularView<Eigen::StrictlyLower>();
  matrix z = g * lower.transpose();
  z.rowwise() += beta.transpose();
  return z;
}

}  // namespace

hf_synthid_bayesian::hf_synthid_bayesian(std::uint32_t depth, double prior)
    : depth_(depth), prior_(prior), beta_(depth, -2.5), delta_(static_cast<std::size_t>(depth) * depth, 0.0) {
  if (depth == 0) throw error(errc::invalid_argument, "hf_synthid_bayesian: expected at least one layer");
  if (!(prior > 0.0 && prior < 1.0)) {
    throw error(errc::invalid_argument, "hf_synthid_bayesian: the prior must lie in (0, 1), got " + std::to_string(prior));
  }
}

double hf_synthid_bayesian::log_odds(std::span<const std::uint8_t> g) const {
  const matrix gm = as_matrix(g, depth_);
  const vector beta = Eigen::Map<const vector>(beta_.data(), depth_);
  const matrix delta = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      delta_.data(), depth_, depth_);
  const matrix z = latents(gm, beta, delta);
  double total = 0.0;
  for (Eigen::Index t = 0; t < gm.rows(); ++t) {
    for (Eigen::Index l = 0; l < gm.cols(); ++l) {
      const double psi = sigmoid(z(t, l));
      // ln(½((g + ½)ψ + 1 − ψ)) − ln ½ = ln(1 + (g − ½)ψ); the likelihood is ≥ ¼, so transformers'
      // clamp at 1e-30 never acts.
      total += std::log1p((gm(t, l) - 0.5) * psi);
    }
  }
  return total;
}

double hf_synthid_bayesian::posterior(std::span<const std::uint8_t> g) const {
  const double p = clamped_prior(prior_);
  return sigmoid(std::log(p) - std::log1p(-p) + log_odds(g));
}

double hf_synthid_bayesian::train(const std::vector<std::vector<std::uint8_t>>& documents,
                                  std::span<const std::uint8_t> labels, const training_options& options) {
  if (documents.empty() || documents.size() != labels.size()) {
    throw error(errc::invalid_argument, "hf_synthid_bayesian::train: expected one label per document, at least one");
  }
  std::vector<matrix> gs;
  for (const auto& d : documents) gs.push_back(as_matrix(d, depth_));
  const auto m = static_cast<Eigen::Index>(depth_);
  vector beta = Eigen::Map<const vector>(beta_.data(), m);
  matrix delta = Eigen::Map<const Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(delta_.data(), m, m);
  const double p = clamped_prior(prior_);
  const double prior_logit = std::log(p) - std::log1p(-p);
  const double batch = static_cast<double>(documents.size());
  // Adam (Kingma and Ba 2015) with its usual β1 = 0.9, β2 = 0.999, ε = 1e-8.
  vector m_beta = vector::Zero(m), v_beta = vector::Zero(m);
  matrix m_delta = matrix::Zero(m, m), v_delta = matrix::Zero(m, m);
  double loss = 0.0;
  for (std::uint32_t epoch = 1; epoch <= options.epochs; ++epoch) {
    vector grad_beta = vector::Zero(m);
    matrix grad_delta = 2.0 * options.l2 * delta;
    loss = options.l2 * delta.squaredNorm();
    for (std::size_t d = 0; d < gs.size(); ++d) {
      const matrix& g = gs[d];
      const matrix z = latents(g, beta, delta);
      const matrix psi = z.unaryExpr([](double x) { return sigmoid(x); });
      const matrix s = g.array() - 0.5;
      const matrix one_plus = (1.0 + s.array() * psi.array()).matrix();
      const double r = prior_logit + one_plus.array().log().sum();
      const double out = sigmoid(r);
      const double y = labels[d] ? 1.0 : 0.0;
      const double c = std::clamp(out, 1e-5, 1.0 - 1e-5);
      loss -= (y * std::log(c) + (1.0 - y) * std::log(1.0 - c)) / batch;
      if (c != out) continue;  // the clamp is flat: no gradient, as in torch
      // d(BCE)/dr = out − y; dr/dz_tl = s ψ(1 − ψ) / (1 + s ψ).
      const matrix a = (s.array() * psi.array() * (1.0 - psi.array()) / one_plus.array()).matrix();
      const double w = (out - y) / batch;
      grad_beta += w * a.colwise().sum().transpose();
      grad_delta += w * (a.transpose() * g);
    }
    // Only the strictly lower triangle enters the likelihood; the rest still feels the L2 term.
    const double lr = options.learning_rate;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8;
    const double c1 = 1.0 - std::pow(b1, epoch), c2 = 1.0 - std::pow(b2, epoch);
    m_beta = b1 * m_beta + (1 - b1) * grad_beta;
    v_beta = b2 * v_beta + (1 - b2) * grad_beta.cwiseProduct(grad_beta);
    beta -= (lr * (m_beta / c1).array() / ((v_beta / c2).array().sqrt() + eps)).matrix();
    m_delta = b1 * m_delta + (1 - b1) * grad_delta;
    v_delta = b2 * v_delta + (1 - b2) * grad_delta.cwiseProduct(grad_delta);
    delta -= (lr * (m_delta / c1).array() / ((v_delta / c2).array().sqrt() + eps)).matrix();
  }
  for (Eigen::Index l = 0; l < m; ++l) {
    beta_[static_cast<std::size_t>(l)] = beta(l);
    for (Eigen::Index k = 0; k < m; ++k) delta_[static_cast<std::size_t>(l * m + k)] = delta(l, k);
  }
  return loss;
}

hf_synthid_bayesian hf_synthid_bayesian::load_safetensors(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw error(errc::io, "detector weights " + name + ": cannot open the file");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& what) { return error(errc::parse, "detector weights " + name + ": " + what); };
  // safetensors: an 8-byte little-endian header length N, N bytes of JSON, then the tensors' bytes.
  if (bytes.size() < 8) throw bad("shorter than the 8-byte header length (not a safetensors file)");
  std::uint64_t header = 0;
  for (int i = 7; i >= 0; --i) header = (header << 8) | static_cast<unsigned char>(bytes[static_cast<std::size_t>(i)]);
  if (header > bytes.size() - 8) {
    throw bad("the header claims " + std::to_string(header) + " bytes, but the file holds " + std::to_string(bytes.size() - 8));
  }
  nlohmann::json index;
  try {
    index = nlohmann::json::parse(bytes.substr(8, header));
  } catch (const nlohmann::json::exception& e) {
    throw bad(std::string("the header is not valid JSON: ") + e.what());
  }
  if (!index.is_object()) throw bad("the header is not a JSON object");
  const std::size_t data_begin = 8 + static_cast<std::size_t>(header);
  auto tensor = [&](const std::string& key, const std::vector<std::uint64_t>& want) {
    const nlohmann::json* entry = nullptr;
    for (const std::string& prefix : {std::string(), std::string("model.")}) {
      const auto it = index.find(prefix + key);
      if (it != index.end()) entry = &*it;
    }
    if (entry == nullptr || !entry->is_object()) throw bad("no tensor '" + key + "'");
    const auto& shape = entry->value("shape", nlohmann::json());
    const std::string dtype = entry->value("dtype", std::string());
    const auto& offsets = entry->value("data_offsets", nlohmann::json());
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() || !offsets[1].is_number_unsigned()) {
      throw bad("tensor '" + key + "': expected two byte offsets");
    }
    if (shape != nlohmann::json(want)) {
      throw bad("tensor '" + key + "': expected shape " + nlohmann::json(want).dump() + ", got " + shape.dump());
    }
    std::size_t count = 1;
    for (const auto extent : want) count *= static_cast<std::size_t>(extent);
    const std::size_t width = dtype == "F32" ? 4 : dtype == "F64" ? 8 : 0;
    if (width == 0) throw bad("tensor '" + key + "': expected dtype F32 or F64, got " + dtype);
    const auto begin = offsets[0].get<std::uint64_t>(), end = offsets[1].get<std::uint64_t>();
    if (end < begin || end - begin != count * width || end > bytes.size() - data_begin) {
      throw bad("tensor '" + key + "': bytes [" + std::to_string(begin) + ", " + std::to_string(end) +
                ") do not hold " + std::to_string(count) + " " + dtype + " values inside the file");
    }
    std::vector<double> values(count);
    for (std::size_t i = 0; i < count; ++i) {
      const char* at = bytes.data() + data_begin + begin + i * width;
      if (width == 4) {
        float f;
        std::memcpy(&f, at, 4);  // safetensors is little-endian, as every machine tritium builds for
        values[i] = f;
      } else {
        std::memcpy(&values[i], at, 8);
      }
      if (!std::isfinite(values[i])) throw bad("tensor '" + key + "': value " + std::to_string(i) + " is not finite");
    }
    return values;
  };
  // The depth is the beta tensor's last extent.
  std::uint32_t depth = 0;
  for (const std::string& prefix : {std::string(), std::string("model.")}) {
    const auto it = index.find(prefix + "likelihood_model_watermarked.beta");
    if (it != index.end() && it->is_object() && it->contains("shape") && (*it)["shape"].is_array() &&
        (*it)["shape"].size() == 3 && (*it)["shape"][2].is_number_unsigned()) {
      depth = static_cast<std::uint32_t>(std::min<std::uint64_t>((*it)["shape"][2].get<std::uint64_t>(), 4097));
    }
  }
  if (depth == 0 || depth > 4096) throw bad("no tensor 'likelihood_model_watermarked.beta' of shape [1, 1, m], 1 <= m <= 4096");
  const auto beta = tensor("likelihood_model_watermarked.beta", {1, 1, depth});
  const auto delta = tensor("likelihood_model_watermarked.delta", {1, 1, depth, depth});
  const auto prior = tensor("prior", {1});
  if (!(prior[0] > 0.0 && prior[0] < 1.0)) throw bad("tensor 'prior': expected a value in (0, 1), got " + std::to_string(prior[0]));
  hf_synthid_bayesian model(depth, prior[0]);
  model.beta_ = beta;
  model.delta_ = delta;
  return model;
}

}  // namespace tritium
