// The command line: subcommand dispatch, usage errors as one line with exit code 2, and a
// last-resort catch so nothing a user types ends in a stack trace.
#pragma once

namespace edd::cli {

int run_app(int argc, char** argv);

}  // namespace edd::cli
