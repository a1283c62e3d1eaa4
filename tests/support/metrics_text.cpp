#include "support/metrics_text.h"

#include <optional>
#include <stdexcept>

#include "support/files.h"

namespace edd::test {
namespace {

// The index just past the '}' closing the label set that opens at `open`; label values are
// quoted and may hold '}' or an escaped '"'. npos when it is not closed.
std::size_t labels_end(const std::string& line, std::size_t open) {
  bool quoted = false;
  for (std::size_t i = open + 1; i < line.size(); ++i) {
    if (quoted && line[i] == '\\') {
      ++i;
    } else if (line[i] == '"') {
      quoted = !quoted;
    } else if (!quoted && line[i] == '}') {
      return i + 1;
    }
  }
  return std::string::npos;
}

std::optional<MetricSample> parse_line(const std::string& line) {
  if (line.empty() || line[0] == '#') return std::nullopt;
  MetricSample s;
  const std::size_t name_end = line.find_first_of("{ ");
  if (name_end == std::string::npos || name_end == 0) return std::nullopt;
  s.name = line.substr(0, name_end);
  std::size_t rest = name_end;
  if (line[name_end] == '{') {
    rest = labels_end(line, name_end);
    if (rest == std::string::npos) return std::nullopt;
    s.labels = line.substr(name_end + 1, rest - name_end - 2);
  }
  // The value is the next field; an optional timestamp may follow it.
  const std::size_t value_at = line.find_first_not_of(' ', rest);
  if (value_at == std::string::npos) return std::nullopt;
  try {
    s.value = std::stod(line.substr(value_at, line.find(' ', value_at) - value_at));
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return s;
}

bool has_all(const std::string& labels, const std::vector<std::string>& fragments) {
  for (const auto& f : fragments) {
    if (labels.find(f) == std::string::npos) return false;
  }
  return true;
}

}  // namespace

std::string MetricSample::series() const {
  return labels.empty() ? name : name + "{" + labels + "}";
}

std::vector<MetricSample> parse_metrics(const std::string& text) {
  std::vector<MetricSample> samples;
  for (const auto& line : lines_of(text)) {
    if (auto s = parse_line(line)) samples.push_back(std::move(*s));
  }
  return samples;
}

std::vector<MetricSample> metric_samples(const std::string& text, const std::string& name,
                                         const std::vector<std::string>& fragments) {
  std::vector<MetricSample> out;
  for (auto& s : parse_metrics(text)) {
    if (s.name == name && has_all(s.labels, fragments)) out.push_back(std::move(s));
  }
  return out;
}

double metric_value(const std::string& text, const std::string& name,
                    const std::vector<std::string>& fragments) {
  const auto found = metric_samples(text, name, fragments);
  return found.empty() ? -1 : found.front().value;
}

double metric_sum(const std::string& text, const std::string& name,
                  const std::vector<std::string>& fragments) {
  double sum = 0;
  for (const auto& s : metric_samples(text, name, fragments)) sum += s.value;
  return sum;
}

double series_value(const std::string& text, const std::string& series) {
  for (const auto& s : parse_metrics(text)) {
    if (s.series() == series) return s.value;
  }
  return -1;
}

}  // namespace edd::test
