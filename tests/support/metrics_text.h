// Reading a Prometheus text exposition (what the daemon serves on /metrics) into samples, so the
// tests ask for a family, a label or an exact series instead of searching the text.
#pragma once

#include <string>
#include <vector>

namespace edd::test {

// One sample line: `name{labels} value`.
struct MetricSample {
  std::string name;
  std::string labels;  // the text between { and }, as exported: `code="202",result="ok"`
  double value = 0;
  // `name` or `name{labels}`: the series as the exposition writes it.
  std::string series() const;
};

// Every sample line of text; comments, blank lines and lines that are not samples are skipped.
std::vector<MetricSample> parse_metrics(const std::string& text);

// The samples of family `name` whose labels contain every fragment (e.g. `result="aborted"`).
std::vector<MetricSample> metric_samples(const std::string& text, const std::string& name,
                                         const std::vector<std::string>& fragments = {});

// The value of the first of those samples; -1 when there is none.
double metric_value(const std::string& text, const std::string& name,
                    const std::vector<std::string>& fragments = {});

// The sum of their values; 0 when there is none.
double metric_sum(const std::string& text, const std::string& name,
                  const std::vector<std::string>& fragments = {});

// The value of the series written exactly as `series` (`name` or `name{a="1",b="2"}`, labels in
// the exported order); -1 when it is absent.
double series_value(const std::string& text, const std::string& series);

}  // namespace edd::test
