#include "dns/config.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <toml++/toml.h>
#include <unistd.h>

#include <limits>
#include <map>

#include "core/config_error.hpp"
#include "core/config_values.hpp"
#include "dns/rdata.hpp"
#include "dns/zone_file.hpp"

namespace certfleet::dns {
namespace {

using core::config_error;

// Larger records files are refused: a mistake (a device, a log) must not fill the memory.
constexpr std::uint64_t max_records_file = 64ULL * 1024 * 1024;

[[noreturn]] void fail(const std::string& key, const std::string& what)
{
    throw config_error(key + ": " + what);
}

// Closes a descriptor on every way out.
struct descriptor
{
    explicit descriptor(int f) : fd(f) {}
    int fd = -1;
    descriptor(const descriptor&) = delete;
    descriptor& operator=(const descriptor&) = delete;
    ~descriptor()
    {
        if (fd >= 0) {
            ::close(fd);
        }
    }
};

// A records file: a regular file (not a directory, a device or a FIFO, which read as nothing
// or without end) of at most max_records_file bytes. Checked on the opened file, so that it
// cannot change between the check and the read.
std::string read_records_file(const std::filesystem::path& file, const std::string& key)
{
    const std::string shown = "'" + file.string() + "'";
    descriptor in{::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)};
    if (in.fd < 0) {
        fail(key, "cannot open " + shown + ": " + std::generic_category().message(errno));
    }
    struct stat st
    {};
    if (::fstat(in.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        fail(key, shown + " is not a regular file");
    }
    if (static_cast<std::uint64_t>(st.st_size) > max_records_file) {
        fail(
            key,
            shown + " is larger than " + std::to_string(max_records_file / (1024 * 1024)) + " MiB"
        );
    }
    std::string text;
    text.resize(static_cast<std::size_t>(st.st_size) + 1);
    std::size_t got = 0;
    while (got < text.size()) {
        const auto n = ::read(in.fd, text.data() + got, text.size() - got);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            fail(key, "cannot read " + shown + ": " + std::generic_category().message(errno));
        }
        if (n == 0) {
            break;
        }
        got += static_cast<std::size_t>(n);
    }
    if (got > static_cast<std::size_t>(st.st_size)) {
        fail(key, shown + " grew while it was read"); // the cap holds for what we keep
    }
    text.resize(got);
    return text;
}

// A positive integer: 0 would silently turn the feature off.
template <class T>
T positive_integer(const toml::table& t, std::string_view key, const std::string& path, T fallback)
{
    const T v = core::config_integer<T>(t, key, path, fallback);
    if (v == 0) {
        fail(path + "." + std::string(key), "must be at least 1 (0 would disable it)");
    }
    return v;
}

// Reads a zone's records into a builder. With `tracked` (a canonical owner), the builder also
// notes where each record at that name comes from, for an error that names both places of a
// conflict; without, nothing is noted (places for 100,000 records would cost megabytes).
zone_builder build_zone(
    const toml::table& t,
    const std::string& path,
    const std::filesystem::path& base_dir,
    const std::string* tracked
)
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
        builder->set_place(tracked != nullptr ? ns_path : std::string());
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
    if (tracked != nullptr) {
        builder->track_only(*tracked);
    }
    std::string lines;
    for (const auto& line : core::string_array(t, "records", path)) {
        lines += line;
        lines += '\n';
    }
    zone_file_source inline_records;
    if (tracked != nullptr) {
        inline_records.place = [&](std::size_t line) {
            return path + ".records[" + std::to_string(line - 1) + "]";
        };
    }
    if (auto error = load_zone_file(lines, *builder, default_ttl, inline_records)) {
        fail(path + ".records[" + std::to_string(error->line - 1) + "]", error->what);
    }
    if (const auto file = core::optional_string(t, "records_file", path).value_or("");
        !file.empty()) {
        const auto full = base_dir / file;
        zone_file_source records_file{{}, false};
        if (tracked != nullptr) {
            records_file.place = [&](std::size_t line) {
                return full.string() + ":" + std::to_string(line);
            };
        }
        if (auto error = load_zone_file(
                read_records_file(full, path + ".records_file"), *builder, default_ttl, records_file
            )) {
            fail(full.string() + ":" + std::to_string(error->line), error->what);
        }
    }
    return std::move(*builder);
}

std::shared_ptr<const zone>
parse_zone(const toml::table& t, const std::string& path, const std::filesystem::path& base_dir)
{
    auto builder = build_zone(t, path, base_dir, nullptr);
    if (const auto found = builder.find_conflict()) {
        // Rare: read the records again, noting where those at the conflicting name come from.
        const auto again = build_zone(t, path, base_dir, &found->wire_owner);
        const auto conflict = again.find_conflict().value_or(*found);
        fail(
            conflict.first, conflict.what + " at '" + conflict.owner + "'; the other is " +
                                conflict.second + " (RFC 1034 3.6.2)"
        );
    }
    auto z = builder.finish();
    if (!z) {
        fail(
            path, "invalid zone: " + z.error().message() +
                      " (is a CNAME sharing its name with other records?)"
        );
    }
    return *z;
}

void parse_rate_limit(const toml::table& dns, rate_limit_options& rrl)
{
    const auto* t = dns.get_as<toml::table>("rate_limit");
    if (t == nullptr) {
        if (dns.contains("rate_limit")) {
            fail("dns.rate_limit", "expected a table { responses_per_second = ..., ... }");
        }
        return; // on, with the defaults
    }
    const std::string path = "dns.rate_limit";
    if (const auto* enabled = t->get("enabled"); enabled != nullptr) {
        const auto v = enabled->value<bool>();
        if (!v) {
            fail(path + ".enabled", "expected true or false");
        }
        rrl.enabled = *v;
    }
    rrl.responses_per_second = core::config_integer<std::uint32_t>(
        *t, "responses_per_second", path, rrl.responses_per_second
    );
    if (rrl.responses_per_second == 0) {
        rrl.enabled = false; // as NSD's rrl-ratelimit: 0
    }
    rrl.slip = core::config_integer<std::uint32_t>(*t, "slip", path, rrl.slip);
    rrl.ipv4_prefix = core::config_integer<std::uint8_t>(*t, "ipv4_prefix", path, rrl.ipv4_prefix);
    rrl.ipv6_prefix = core::config_integer<std::uint8_t>(*t, "ipv6_prefix", path, rrl.ipv6_prefix);
    if (rrl.ipv4_prefix > 32) {
        fail(path + ".ipv4_prefix", "expected 0 to 32");
    }
    if (rrl.ipv6_prefix > 128) {
        fail(path + ".ipv6_prefix", "expected 0 to 128");
    }
    rrl.table_size = positive_integer<std::uint32_t>(*t, "table_size", path, rrl.table_size);
    if (rrl.table_size > (1U << 24U)) {
        fail(path + ".table_size", "expected at most 16777216 buckets");
    }
}

std::size_t parse_threads(const toml::table& dns)
{
    const auto* node = dns.get("threads");
    if (node == nullptr || node->value<std::string_view>() == "auto") {
        return 0;
    }
    const auto v = node->value<std::int64_t>();
    if (!v || *v < 1 || *v > 1024) {
        fail("dns.threads", "expected \"auto\" (one per CPU) or a number from 1 to 1024");
    }
    return static_cast<std::size_t>(*v);
}

void parse_server_limits(const toml::table& dns, server_options& server)
{
    server.tcp_idle_timeout = std::chrono::milliseconds(
        positive_integer<std::uint32_t>(dns, "tcp_idle_timeout_ms", "dns", 10'000)
    );
    server.max_tcp_connections =
        positive_integer<std::uint32_t>(dns, "max_tcp_connections", "dns", 256);
    server.max_tcp_per_source =
        positive_integer<std::uint32_t>(dns, "max_tcp_per_source", "dns", 16);
    server.tcp_max_lifetime = std::chrono::milliseconds(
        positive_integer<std::uint32_t>(dns, "tcp_max_lifetime_ms", "dns", 120'000)
    );
    server.tcp_send_buffer = core::config_integer<std::uint32_t>(
        dns, "tcp_send_buffer", "dns", static_cast<std::uint32_t>(server.tcp_send_buffer)
    );
    if (server.tcp_send_buffer != 0 && server.tcp_send_buffer < 4096) {
        fail("dns.tcp_send_buffer", "expected 0 (the system's) or at least 4096 bytes");
    }
    server.threads = parse_threads(dns);
    parse_rate_limit(dns, server.rate_limit);
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
    parse_server_limits(*dns, config.server);
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
    std::map<std::string, std::string, std::less<>> apexes; // canonical apex → its zone
    for (std::size_t i = 0; i < zones->size(); ++i) {
        const std::string path = "dns.zone[" + std::to_string(i) + "]";
        const auto* t = (*zones)[i].as_table();
        if (t == nullptr) {
            fail(path, "expected a table");
        }
        auto z = parse_zone(*t, path, base_dir);
        const auto [earlier, added] = apexes.try_emplace(std::string(z->apex()), path);
        if (!added) {
            fail(
                path + ".apex", "'" + name_to_text(z->apex()) + "' is served already by " +
                                    earlier->second + ".apex; one zone per apex"
            );
        }
        config.zones.push_back(std::move(z));
    }
    return config;
}

} // namespace certfleet::dns
