#include "deploy/target.hpp"

#include "deploy/exec_target.hpp"
#include "deploy/files_target.hpp"
#include "deploy/rras_target.hpp"

namespace certfleet::deploy {

nlohmann::json to_json(const target_result& result)
{
    return {
        {"ok", result.ok},           {"stage", result.stage},
        {"message", result.message}, {"rolled_back", result.rolled_back},
        {"details", result.details},
    };
}

bool is_server_option(std::string_view name) noexcept
{
    return name == "pfx_protection";
}

std::string check_target_options(std::string_view target, const nlohmann::json& options)
{
    std::string problem;
    if (const auto p = options.is_object() ? options.find("pfx_protection") : options.end();
        p != options.end() && !(p->is_string() && (*p == "legacy" || *p == "aes"))) {
        return "pfx_protection is \"legacy\" (TripleDES-SHA1, the default) or \"aes\"";
    }
    if (target == "files") {
        static_cast<void>(parse_files_options(options, problem));
    } else if (target == "exec") {
        static_cast<void>(parse_exec_options(options, problem));
    } else if (target == "rras") {
        static_cast<void>(parse_rras_options(options, problem));
    } else {
        problem = "unknown target \"" + std::string(target) + "\" (files, exec, rras)";
    }
    return problem;
}

target_result apply_target(const bundle& contents, const target_context& context)
{
    if (contents.target == "files") {
        return apply_files_target(contents, context);
    }
    if (contents.target == "exec") {
        return apply_exec_target(contents, context);
    }
    if (contents.target == "rras") {
        return apply_rras_target(contents, context);
    }
    return {
        .ok = false,
        .stage = "options",
        .message = "this agent has no target \"" + contents.target + "\"",
    };
}

} // namespace certfleet::deploy
