#include "dns/zone.hpp"

#include <algorithm>

#include "dns/errc.hpp"
#include "dns/rdata.hpp"

namespace certfleet::dns {

const rrset* node::find(rr_type type) const noexcept
{
    for (const auto& set : rrsets) {
        if (set.type == type) {
            return &set;
        }
    }
    return nullptr;
}

const node* zone::find(std::string_view canonical) const noexcept
{
    const auto it = nodes_.find(canonical);
    return it == nodes_.end() ? nullptr : &it->second;
}

boost::system::result<zone_builder>
zone_builder::start(std::string_view apex, const soa_fields& soa)
{
    auto apex_wire = canonical_name(apex);
    if (!apex_wire) {
        return apex_wire.error();
    }
    auto mname = resolve_name(soa.mname, *apex_wire);
    auto rname = resolve_name(soa.rname, *apex_wire);
    if (!mname || !rname) {
        return errc::invalid_name;
    }
    zone_builder b;
    b.zone_ = std::make_unique<zone>();
    b.zone_->apex_ = *apex_wire;
    std::string rdata = *mname + *rname;
    for (const std::uint32_t v : {soa.serial, soa.refresh, soa.retry, soa.expire, soa.minimum}) {
        for (int shift = 24; shift >= 0; shift -= 8) {
            rdata.push_back(static_cast<char>((v >> shift) & 0xff));
        }
    }
    if (auto ec = b.add_wire(*apex_wire, rr_type::soa, soa.ttl, std::move(rdata))) {
        return ec;
    }
    b.zone_->negative_ttl_ = std::min(soa.ttl, soa.minimum);
    return b;
}

boost::system::error_code zone_builder::add(
    std::string_view owner, rr_type type, std::uint32_t ttl, std::string_view rdata_text
)
{
    auto owner_wire = resolve_name(owner, zone_->apex_);
    if (!owner_wire) {
        return owner_wire.error();
    }
    auto rdata = encode_rdata(type, rdata_text, zone_->apex_);
    if (!rdata) {
        return rdata.error();
    }
    return add_wire(std::move(*owner_wire), type, ttl, std::move(*rdata));
}

boost::system::error_code
zone_builder::add_wire(std::string owner, rr_type type, std::uint32_t ttl, std::string rdata)
{
    if (!is_at_or_below(owner, zone_->apex_)) {
        return errc::invalid_name;
    }
    if (type == rr_type::soa && (owner != zone_->apex_ || zone_->find(owner) != nullptr)) {
        return errc::invalid_record; // one SOA, at the apex, from the zone's configuration
    }
    // Every ancestor up to the apex exists, as an empty non-terminal at least.
    for_each_ancestor(owner, zone_->apex_.size() - 1, [&](std::string_view ancestor) {
        zone_->nodes_.try_emplace(std::string(ancestor));
    });
    const std::string owner_key = owner;
    auto& n = zone_->nodes_[std::move(owner)];
    auto it = std::find_if(n.rrsets.begin(), n.rrsets.end(), [&](const rrset& s) {
        return s.type == type;
    });
    if (it == n.rrsets.end()) {
        n.rrsets.push_back(rrset{type, ttl, {}});
        it = std::prev(n.rrsets.end());
    }
    // All records of an RRset share one TTL (RFC 2181 5.2): the lowest wins.
    it->ttl = std::min(it->ttl, ttl);
    if (std::find(it->rdatas.begin(), it->rdatas.end(), rdata) == it->rdatas.end()) {
        it->rdatas.push_back(std::move(rdata));
        if (!place_.empty() && (tracked_.empty() || tracked_ == owner_key)) {
            places_[owner_key].emplace_back(type, place_);
        }
    }
    return {};
}

std::optional<zone_builder::conflict> zone_builder::find_conflict() const
{
    for (const auto& [owner, n] : zone_->nodes_) {
        const rrset* cname = n.find(rr_type::cname);
        if (cname == nullptr || (cname->rdatas.size() < 2 && n.rrsets.size() < 2)) {
            continue;
        }
        conflict c{
            name_to_text(owner), owner,
            cname->rdatas.size() > 1 ? "two CNAMEs at one name" : "a CNAME beside other data", "?",
            "?"};
        if (const auto p = places_.find(owner); p != places_.end()) {
            // The first CNAME, and the first other record, in the order they were added.
            const auto& added = p->second;
            const auto cname_at = std::find_if(added.begin(), added.end(), [](const auto& e) {
                return e.first == rr_type::cname;
            });
            const auto other_at = std::find_if(added.begin(), added.end(), [&](const auto& e) {
                return &e != &*cname_at;
            });
            if (cname_at != added.end() && other_at != added.end()) {
                c.first = std::min(cname_at, other_at)->second;
                c.second = std::max(cname_at, other_at)->second;
            }
        }
        return c;
    }
    return std::nullopt;
}

boost::system::result<std::shared_ptr<const zone>> zone_builder::finish()
{
    auto& z = *zone_;
    const node* apex = z.find(z.apex_);
    if (apex == nullptr || apex->find(rr_type::ns) == nullptr) {
        return errc::invalid_record; // a zone needs name servers at its apex
    }
    for (const auto& [name, n] : z.nodes_) {
        if (const rrset* cname = n.find(rr_type::cname);
            cname != nullptr && (n.rrsets.size() > 1 || cname->rdatas.size() > 1)) {
            return errc::invalid_record; // CNAME and other data, or two (RFC 1034 3.6.2)
        }
        (void)name;
    }
    z.soa_ = apex->find(rr_type::soa);
    return std::shared_ptr<const zone>(std::move(zone_));
}

catalog::catalog(std::vector<std::shared_ptr<const zone>> zones) : zones_(std::move(zones))
{
    std::sort(zones_.begin(), zones_.end(), [](const auto& a, const auto& b) {
        return a->apex().size() > b->apex().size();
    });
}

const zone* catalog::find_zone(std::string_view canonical) const noexcept
{
    for (const auto& z : zones_) {
        if (is_at_or_below(canonical, z->apex())) {
            return z.get();
        }
    }
    return nullptr;
}

} // namespace certfleet::dns
