#include "support/rig_promtool.hpp"

namespace certfleet::test {

run_result promtool_check_metrics(const temp_dir& dir, std::string_view exposition)
{
    const auto promtool = find_program("promtool");
    const auto file = dir.write("metrics.txt", exposition);
    // The rig runs programs without standard input: a shell gives promtool the file as one.
    return run(
        {"/bin/sh", "-c", "exec \"$0\" check metrics < \"$1\"", promtool.string(), file.string()}
    );
}

} // namespace certfleet::test
