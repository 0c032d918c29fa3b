#pragma once
// Static zone data: an immutable snapshot built once from configuration. Names are canonical
// wire format (lower case); rdata is wire format with names uncompressed.

#include <boost/system/result.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "dns/message.hpp"

namespace certfleet::dns {

struct rrset
{
    rr_type type{};
    std::uint32_t ttl = 0;
    std::vector<std::string> rdatas;
};

// The records at one name. No rrsets means an empty non-terminal: the name exists (it has
// descendants) but holds nothing, so queries get NODATA rather than NXDOMAIN (RFC 8020).
struct node
{
    std::vector<rrset> rrsets;

    [[nodiscard]] const rrset* find(rr_type type) const noexcept;
};

struct soa_fields
{
    std::string mname; // presentation format, absolute or relative to the apex
    std::string rname;
    std::uint32_t serial = 1;
    std::uint32_t refresh = 3600;
    std::uint32_t retry = 600;
    std::uint32_t expire = 1209600;
    std::uint32_t minimum = 60; // negative-caching TTL (RFC 2308 4)
    std::uint32_t ttl = 3600;
};

struct string_hash
{
    using is_transparent = void;
    // Not noexcept on purpose: libstdc++ then keeps each key's hash in its node, so a lookup
    // compares hashes before keys and never rehashes a neighbour's key to find its bucket.
    [[nodiscard]] std::size_t operator()(std::string_view s) const
    {
        return std::hash<std::string_view>{}(s);
    }
};
template <class V>
using name_map = std::unordered_map<std::string, V, string_hash, std::equal_to<>>;

class zone
{
public:
    [[nodiscard]] std::string_view apex() const noexcept { return apex_; }
    [[nodiscard]] const node* find(std::string_view canonical) const noexcept;
    [[nodiscard]] const rrset& soa() const noexcept { return *soa_; }
    // TTL of negative answers: min(SOA TTL, SOA MINIMUM) (RFC 2308 5).
    [[nodiscard]] std::uint32_t negative_ttl() const noexcept { return negative_ttl_; }
    [[nodiscard]] std::size_t name_count() const noexcept { return nodes_.size(); }

private:
    friend class zone_builder;
    std::string apex_;
    name_map<node> nodes_;
    const rrset* soa_ = nullptr;
    std::uint32_t negative_ttl_ = 0;
};

// Collects records, then builds a zone. Errors name the record that is wrong.
class zone_builder
{
public:
    // apex: presentation format.
    [[nodiscard]] static boost::system::result<zone_builder>
    start(std::string_view apex, const soa_fields& soa);

    // Adds a record from presentation text (owner relative to the apex, "@", or absolute).
    [[nodiscard]] boost::system::error_code
    add(std::string_view owner, rr_type type, std::uint32_t ttl, std::string_view rdata_text);
    // Adds a record already in wire form; owner canonical wire.
    [[nodiscard]] boost::system::error_code
    add_wire(std::string owner, rr_type type, std::uint32_t ttl, std::string rdata);

    [[nodiscard]] std::string_view apex() const noexcept { return zone_->apex_; }

    // Where the records added next come from ("dns.zone[0].records[3]", "a.zone:12"), so that a
    // conflict can name both of its places; empty: not recorded.
    void set_place(std::string place) { place_ = std::move(place); }
    // Notes places for records at `canonical_owner` only (all owners by default).
    void track_only(std::string canonical_owner) { tracked_ = std::move(canonical_owner); }

    struct conflict
    {
        std::string owner;      // presentation format
        std::string wire_owner; // canonical wire format
        std::string what;
        std::string first; // the places of the two records, in the order they were added
        std::string second;
    };
    // A CNAME conflict (RFC 1034 3.6.2, RFC 2181 10.1): two CNAMEs at one name, or a CNAME
    // beside other data. finish() refuses such a zone; this says where.
    [[nodiscard]] std::optional<conflict> find_conflict() const;

    // Fails when the zone has no NS at its apex, or a CNAME shares its name with other data.
    [[nodiscard]] boost::system::result<std::shared_ptr<const zone>> finish();

private:
    std::unique_ptr<zone> zone_;
    std::string place_;
    std::string tracked_;
    // Owner → (type, place) of each record added while a place was set.
    name_map<std::vector<std::pair<rr_type, std::string>>> places_;
};

// All zones served, longest-apex match.
class catalog
{
public:
    catalog() = default;
    explicit catalog(std::vector<std::shared_ptr<const zone>> zones);

    [[nodiscard]] const zone* find_zone(std::string_view canonical) const noexcept;
    [[nodiscard]] const std::vector<std::shared_ptr<const zone>>& zones() const noexcept
    {
        return zones_;
    }

private:
    std::vector<std::shared_ptr<const zone>> zones_; // sorted longest apex first
};

} // namespace certfleet::dns
