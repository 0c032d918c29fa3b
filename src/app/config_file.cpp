#include "app/config_file.hpp"

#include "app/default_config.hpp"
#include "core/config_error.hpp"

namespace certfleet::app {

loaded_config load_config(const std::string& file)
{
    try {
        if (file.empty()) {
            return {
                toml::parse(default_config(), std::string_view{"<embedded defaults>"}),
                std::filesystem::current_path()};
        }
        return {toml::parse_file(file), std::filesystem::absolute(file).parent_path()};
    } catch (const toml::parse_error& e) {
        const auto& where = e.source();
        throw core::config_error(
            (where.path ? *where.path : std::string("config")) + ":" +
            std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column) + ": " +
            std::string(e.description())
        );
    }
}

} // namespace certfleet::app
