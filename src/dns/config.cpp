#include "dns/config.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <limits>
#include <sstream>

#include "core/config_error.hpp"
#include "dns/rdata.hpp"
#include "dns/zone_file.hpp"

namespace certfleet::dns {
namespace {

using core::config_error;

[[noreturn]] void fail(const std::string& key, const std::string& what)
{
    throw config_error(key + ": " + what);
}

template <class T>
T integer(const toml::table& t, std::string_view key, const std::string& path, T fallback)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        return fallback;
    }
    const auto v = node->value<std::int64_t>();
    if (!v || *v < 0 || static_cast<std::uint64_t>(*v) > std::numeric_limits<T>::max()) {
        fail(
            path + "." + std::string(key),
            "expected an integer from 0 to " + std::to_string(std::numeric_limits<T>::max())
        );
    }
    return static_cast<T>(*v);
}

std::string
string(const toml::table& t, std::string_view key, const std::string& path, bool required)
{
    const auto* node = t.get(key);
    if (node == nullptr) {
        if (required) {
            fail(path + "." + std::string(key), "missing; it is required");
        }
        return {};
    }
    const auto v = node->value<std::string>();
    if (!v) {
        fail(path + "." + std::string(key), "expected a string");
    }
    return *v;
}

std::vector<std::string>
strings(const toml::table& t, std::string_view key, const std::string& path)
{
    std::vector<std::string> out;
    const auto* node = t.get(key);
    if (node == nullptr) {
        return out;
    }
    const auto* array = node->as_array();
    if (array == nullptr) {
        fail(path + "." + std::string(key), "expected an array of strings");
    }
    for (const auto& item : *array) {
        const auto v = item.value<std::string>();
        if (!v) {
            fail(path + "." + std::string(key), "expected an array of strings");
        }
        out.push_back(*v);
    }
    return out;
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
    const auto apex = string(t, "apex", path, true);
    const auto default_ttl = integer<std::uint32_t>(t, "ttl", path, 300);
    soa_fields soa;
    const auto* soa_table = t.get_as<toml::table>("soa");
    const std::string soa_path = path + ".soa";
    if (soa_table == nullptr) {
        fail(soa_path, "missing; a zone needs mname and rname");
    }
    soa.mname = string(*soa_table, "mname", soa_path, true);
    soa.rname = string(*soa_table, "rname", soa_path, true);
    soa.serial = integer<std::uint32_t>(*soa_table, "serial", soa_path, 1);
    soa.refresh = integer<std::uint32_t>(*soa_table, "refresh", soa_path, soa.refresh);
    soa.retry = integer<std::uint32_t>(*soa_table, "retry", soa_path, soa.retry);
    soa.expire = integer<std::uint32_t>(*soa_table, "expire", soa_path, soa.expire);
    soa.minimum = integer<std::uint32_t>(*soa_table, "minimum", soa_path, soa.minimum);
    soa.ttl = integer<std::uint32_t>(*soa_table, "ttl", soa_path, default_ttl);

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
        const auto name = string(*entry, "name", ns_path, true);
        if (builder->add("@", rr_type::ns, default_ttl, name)) {
            fail(ns_path + ".name", "'" + name + "' is not a valid domain name");
        }
        for (const auto& address : strings(*entry, "addresses", ns_path)) {
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
    for (const auto& line : strings(t, "records", path)) {
        lines += line;
        lines += '\n';
    }
    if (auto error = load_zone_file(lines, *builder, default_ttl)) {
        fail(path + ".records[" + std::to_string(error->line - 1) + "]", error->what);
    }
    if (const auto file = string(t, "records_file", path, false); !file.empty()) {
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
    for (const auto& text : strings(*dns, "listen", "dns")) {
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
    config.server.tcp_idle_timeout =
        std::chrono::milliseconds(integer<std::uint32_t>(*dns, "tcp_idle_timeout_ms", "dns", 10'000)
        );
    config.server.max_tcp_connections =
        integer<std::uint32_t>(*dns, "max_tcp_connections", "dns", 256);
    config.server.responder.max_udp_payload =
        integer<std::uint16_t>(*dns, "max_udp_payload", "dns", 1232);
    if (config.server.responder.max_udp_payload < 512 ||
        config.server.responder.max_udp_payload > 4096) {
        fail("dns.max_udp_payload", "expected 512 to 4096");
    }
    config.challenge_ttl =
        std::chrono::seconds(integer<std::uint32_t>(*dns, "challenge_ttl", "dns", 10));

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
