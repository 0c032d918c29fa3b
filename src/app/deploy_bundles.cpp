// The bundles each agent is owed (deploy_service.hpp): what a poll answers, and the bundles it
// carries, built from what every agent's bundle of a version shares.
#include <map>

#include "app/deploy_service.hpp"
#include "app/event_log.hpp"
#include "app/sealed_keys.hpp"
#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "core/crypto/pkcs12.hpp"
#include "core/crypto/private_key.hpp"
#include "core/crypto/random.hpp"
#include "core/errc.hpp"
#include "deploy/bundle.hpp"
#include "deploy/window.hpp"

namespace certfleet::app {
namespace {

constexpr std::size_t cache_entries = 64;

deploy_refusal store_refusal(const boost::system::error_code& ec)
{
    return {503, "store_unavailable", "the store failed: " + ec.message()};
}

// The version an agent last refused for this assignment, if its last report was a refusal.
std::optional<std::int64_t> refused_version(const core::assignment_record& a)
{
    if (a.last_status != "refused") {
        return std::nullopt;
    }
    const auto result = nlohmann::json::parse(a.last_result_json, nullptr, false);
    const auto v = result.is_object() ? result.find("version") : result.end();
    if (v == result.end() || !v->is_number_integer()) {
        return std::nullopt;
    }
    return v->get<std::int64_t>();
}

} // namespace

deploy_outcome<deploy_service::poll_answer> deploy_service::answer_poll(
    const core::agent_record& agent,
    const deploy::poll_request& request,
    clock_time now,
    std::int64_t last_deploy_now
)
{
    auto views = st_.store->deployments().assignments_of_agent(agent.id);
    if (!views) {
        return store_refusal(views.error());
    }
    poll_answer answer;
    auto& response = answer.response;
    response.deploy_now = agent.deploy_now;
    answer.news = agent.deploy_now != last_deploy_now;
    if (!agent.windows.empty()) {
        if (auto windows = deploy::parse_windows(agent.windows)) {
            response.openings = deploy::next_openings(*windows, now, 8);
        }
    }
    std::map<std::int64_t, const deploy::known_assignment*> known;
    for (const auto& k : request.assignments) {
        known[k.id] = &k;
    }
    for (const auto& view : *views) {
        const auto& a = view.assignment;
        response.assignments.push_back({a.id, a.certificate_id, a.target, view.newest_version});
        const auto it = known.find(a.id);
        answer.news = answer.news || it == known.end();
        if (!view.newest_version) {
            continue;
        }
        const auto held =
            it == known.end()
                ? std::optional<std::int64_t>{}
                : std::max(it->second->staged.value_or(0), it->second->deployed.value_or(0));
        if (held && *held >= *view.newest_version) {
            continue;
        }
        if (refused_version(a) == view.newest_version) {
            continue; // the agent refused this very bundle: offering it again changes nothing
        }
        auto bundle = gather_bundle(agent, view);
        if (!bundle) {
            record_bundle_failure(agent, a.certificate_id, bundle.error());
            continue;
        }
        answer.unsealed.push_back(std::move(*bundle));
    }
    answer.news = answer.news || known.size() != views->size();
    return answer;
}

boost::system::result<const deploy_service::version_material*>
deploy_service::material_for(core::row_id certificate_id, core::row_id version_id)
{
    if (const auto it = materials_.find(version_id); it != materials_.end()) {
        return &it->second;
    }
    auto& store = *st_.store;
    auto version = store.latest_version(certificate_id);
    if (!version) {
        return version.error();
    }
    if (!*version) {
        return make_error_code(core::errc::not_found);
    }
    const auto& v = **version;
    if (const auto it = materials_.find(v.id); it != materials_.end()) {
        return &it->second;
    }
    auto certificate = store.get_certificate(certificate_id);
    if (!certificate) {
        return certificate.error();
    }
    auto key_pem = st_.vault.open(v.key_sealed, certificate_key_context(certificate_id));
    if (!key_pem) {
        return key_pem.error();
    }
    auto chain = core::parse_pem_chain(v.chain_pem);
    if (!chain || chain->empty()) {
        return make_error_code(core::errc::invalid_certificate);
    }
    if (materials_.size() >= cache_entries) {
        materials_.erase(materials_.begin()); // the oldest version first: ids grow
    }
    version_material m{
        v, certificate->spec.names, core::to_hex(chain->front().sha1_fingerprint),
        core::to_hex(chain->front().sha256_fingerprint), std::move(*key_pem)};
    return &materials_.emplace(v.id, std::move(m)).first->second;
}

void deploy_service::record_bundle_failure(
    const core::agent_record& agent,
    core::row_id certificate_id,
    const boost::system::error_code& ec
)
{
    record_event(
        *st_.store, certificate_id, "bundle_failed",
        "no bundle for agent " + agent.name + ": " + ec.message()
    );
}

boost::system::result<std::string> deploy_service::seal_bundle(const unsealed_bundle& b) const
{
    // signing_ is set by gather_bundle (on the store's thread) before any bundle reaches here.
    if (!signing_) {
        return make_error_code(core::errc::not_found);
    }
    return deploy::seal_and_sign_bundle(
        b.fields, b.agent_public_point, signing_->private_scalar.view(), *crypto_
    );
}

boost::system::result<deploy_service::unsealed_bundle>
deploy_service::gather_bundle(const core::agent_record& agent, const core::assignment_view& view)
{
    const auto& a = view.assignment;
    // Thousands of agents may want the same version at once: what is the same for all of them
    // (the chain, its hashes, the opened key, the PKCS#12) is made once per version.
    auto material = material_for(a.certificate_id, view.newest_version.value_or(0));
    if (!material) {
        return material.error();
    }
    const auto& m = **material;
    auto options = nlohmann::json::parse(a.options_json, nullptr, false);
    if (!options.is_object()) {
        options = nlohmann::json::object();
    }
    const auto protection = options.find("pfx_protection");
    const bool aes = protection != options.end() && protection->is_string() &&
                     protection->get<std::string>() == "aes";
    auto pfx = pfx_for(m.version, m.key_pem, aes);
    if (!pfx) {
        return pfx.error();
    }
    if (auto signing = signing_key(); !signing) {
        return signing.error();
    }
    deploy::bundle b;
    b.agent = agent.name;
    b.assignment = a.id;
    b.certificate = a.certificate_id;
    b.version = m.version.id;
    b.target = a.target;
    b.target_options = std::move(options);
    b.names = m.names;
    b.chain_pem = m.version.chain_pem;
    b.sha1_hex = m.sha1_hex;
    b.sha256_hex = m.sha256_hex;
    b.serial_hex = m.version.serial_hex;
    b.not_before = m.version.not_before;
    b.not_after = m.version.not_after;
    b.pfx = (*pfx)->pfx;
    b.key_pem = core::secret(m.key_pem.view());
    b.pfx_password = core::secret((*pfx)->password.view());
    return unsealed_bundle{std::move(b), agent.public_point};
}

boost::system::result<const deploy_service::pfx_entry*> deploy_service::pfx_for(
    const core::certificate_version& version, const core::secret& key_pem, bool aes
)
{
    const auto slot = std::pair{version.id, aes};
    if (const auto it = pfx_cache_.find(slot); it != pfx_cache_.end()) {
        return &it->second;
    }
    auto key = core::private_key::from_pem(key_pem.view());
    if (!key) {
        return key.error();
    }
    auto password = core::random_password(32);
    if (!password) {
        return password.error();
    }
    core::pkcs12_options options;
    options.protection = aes ? core::pkcs12_protection::aes : core::pkcs12_protection::legacy;
    auto pfx = core::make_pkcs12(*key, version.chain_pem, password->view(), "certfleet", options);
    if (!pfx) {
        return pfx.error();
    }
    if (pfx_cache_.size() >= cache_entries) {
        pfx_cache_.erase(pfx_cache_.begin()); // the oldest version first: ids grow
    }
    auto [it, inserted] =
        pfx_cache_.emplace(slot, pfx_entry{std::move(*pfx), std::move(*password)});
    return &it->second;
}

} // namespace certfleet::app
