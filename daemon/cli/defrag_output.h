// The end-of-run summary for people (a table: before, after, reclaimed, time per member) and
// for machines (JSON). Pure functions.
#pragma once

#include <string>

#include "defrag/report.h"

namespace edd::cli {

std::string render_defrag_summary(const defrag::RunReport& report);
std::string render_defrag_json(const defrag::RunReport& report);

}  // namespace edd::cli
