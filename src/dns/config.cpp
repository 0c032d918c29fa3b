#include "dns/config.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "core/config_error.hpp"
#include "core/config_values.hpp"
#include "dns/rdata.hpp"
#include "dns/zone_file.hpp"

namespace certfleet::dns {
namespace {

using core::config_error;

[[noreturn]] void fail(const std::string& key, const std::string& what)
{
    throw config_error(key + ": " + what);
}

std::string read_file(const std::filesystem::path& file, const std::string& key)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        fail(key, "cannot read '" + file.string() + "'");
    }
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::shared_ptr<const zone>
parse_zone(const toml::table& t, const std::string& path, const std::filesystem::path& base_dir)
{
    const auto apex = core::required_string(t, "apex", path);
    const auto default_ttl = core::config_integer<std::uint32_t>(t, "ttl", path, 300);
    soa_fields soa;
    const auto* soa_table = t.get_as<toml::table>("soa");
    const std::string soa_path = path + ".soa";
    if (soa_table == nullptr) {
        fail(soa_path, "missing; a zone needs mname and rname");
    }
    soa.mname = core::required_string(*soa_table, "mname", soa_path);
    soa.rname = core::required_string(*soa_table, "rname", soa_path);
    soa.serial = core::config_integer<std::uint32_t>(*soa_table, "serial", soa_path, 1);
    soa.refresh = core::config_integer<std::uint32_t>(*soa_table, "refresh", soa_path, soa.refresh);
    soa.retry = core::config_integer<std::uint32_t>(*soa_table, "retry", soa_path, soa.retry);
    soa.expire = core::config_integer<std::uint32_t>(*soa_table, "expire", soa_path, soa.expire);
    soa.minimum = core::config_integer<std::uint32_t>(*soa_table, "minimum", soa_path, soa.minimum);
    soa.ttl = core::config_integer<std::uint32_t>(*soa_table, "ttl", soa_path, default_ttl);

    auto builder = zone_builder::start(apex, soa);
    if (!builder) {
        fail(
            path, "apex or SOA names are not valid domain names (" + builder.error().message() + ")"
        );
    }
    const auto* ns = t.get_as<toml::array>("ns");
    if (ns == nullptr || ns->empty()) {
        fail(path + ".ns", "missing; a zone needs at least one name server");
    }
    for (std::size_t i = 0; i < ns->size(); ++i) {
        const std::string ns_path = path + ".ns[" + std::to_string(i) + "]";
        const auto* entry = (*ns)[i].as_table();
        if (entry == nullptr) {
            fail(ns_path, "expected a table { name = ..., addresses = [...] }");
        }
        const auto name = core::required_string(*entry, "name", ns_path);
        if (builder->add("@", rr_type::ns, default_ttl, name)) {
            fail(ns_path + ".name", "'" + name + "' is not a valid domain name");
        }
        for (const auto& address : core::string_array(*entry, "addresses", ns_path)) {
            const auto type = address.find(':') == std::string::npos ? rr_type::a : rr_type::aaaa;
            auto target = resolve_name(name, builder->apex());
            if (!target || !is_at_or_below(*target, builder->apex())) {
                fail(ns_path + ".addresses", "glue only for name servers inside the zone");
            }
            auto rdata = encode_rdata(type, address, builder->apex());
            if (!rdata) {
                fail(ns_path + ".addresses", "'" + address + "' is not an IP address");
            }
            if (builder->add_wire(*target, type, default_ttl, std::move(*rdata))) {
                fail(ns_path + ".addresses", "cannot add glue for '" + name + "'");
            }
        }
    }
    std::string lines;
    for (const auto& line : core::string_array(t, "records", path)) {
        lines += line;
        lines += '\n';
    }
    if (auto error = load_zone_file(lines, *builder, default_ttl)) {
        fail(path + ".records[" + std::to_string(error->line - 1) + "]", error->what);
    }
    if (const auto file = core::optional_string(t, "records_file", path).value_or("");
        !file.empty()) {
        const auto full = base_dir / file;
        if (auto error =
                load_zone_file(read_file(full, path + ".records_file"), *builder, default_ttl)) {
            fail(full.string() + ":" + std::to_string(error->line), error->what);
        }
    }
    auto z = builder->finish();
    if (!z) {
        fail(
            path, "invalid zone: " + z.error().message() +
                      " (is a CNAME sharing its name with other records?)"
        );
    }
    return *z;
}

} // namespace

dns_config parse_dns_config(const toml::table& root, const std::filesystem::path& base_dir)
{
    dns_config config;
    const auto* dns = root.get_as<toml::table>("dns");
    if (dns == nullptr) {
        fail("dns", "missing section [dns]");
    }
    for (const auto& text : core::string_array(*dns, "listen", "dns")) {
        auto endpoint = parse_endpoint(text, 53);
        if (!endpoint) {
            fail(
                "dns.listen",
                "'" + text +
                    "' is not an address with an optional port (\"127.0.0.1:53\", \"[::1]:53\")"
            );
        }
        config.server.listen.push_back(*endpoint);
    }
    if (config.server.listen.empty()) {
        fail("dns.listen", "missing; give at least one address to serve on");
    }
    config.server.tcp_idle_timeout = std::chrono::milliseconds(
        core::config_integer<std::uint32_t>(*dns, "tcp_idle_timeout_ms", "dns", 10'000)
    );
    config.server.max_tcp_connections =
        core::config_integer<std::uint32_t>(*dns, "max_tcp_connections", "dns", 256);
    config.server.responder.max_udp_payload =
        core::config_integer<std::uint16_t>(*dns, "max_udp_payload", "dns", 1232);
    if (config.server.responder.max_udp_payload < 512 ||
        config.server.responder.max_udp_payload > 4096) {
        fail("dns.max_udp_payload", "expected 512 to 4096");
    }
    config.challenge_ttl =
        std::chrono::seconds(core::config_integer<std::uint32_t>(*dns, "challenge_ttl", "dns", 10));

    const auto* zones = dns->get_as<toml::array>("zone");
    if (zones == nullptr || zones->empty()) {
        fail("dns.zone", "missing; declare at least one [[dns.zone]]");
    }
    for (std::size_t i = 0; i < zones->size(); ++i) {
        const std::string path = "dns.zone[" + std::to_string(i) + "]";
        const auto* t = (*zones)[i].as_table();
        if (t == nullptr) {
            fail(path, "expected a table");
        }
        config.zones.push_back(parse_zone(*t, path, base_dir));
    }
    return config;
}

} // namespace certfleet::dns
