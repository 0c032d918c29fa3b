#include "support/backend_rig.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/string.hpp>
#include <csignal>
#include <thread>

#include "core/crypto/certificate.hpp"
#include "core/crypto/encoding.hpp"
#include "net/http_client.hpp"
#include "support/rig_certfleet.hpp"
#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

std::string
zone_text(const std::map<std::string, std::string>& cnames, const std::vector<std::string>& extra)
{
    std::string text = "$ORIGIN customer.test.\n$TTL 1\n"
                       "@ IN SOA ns1.customer.test. hostmaster.customer.test. 1 3600 600 86400 1\n"
                       "@ IN NS ns1.customer.test.\n"
                       "ns1 IN A 127.0.0.1\n";
    for (const auto& [name, label] : cnames) {
        text += "_acme-challenge." + name + ". IN CNAME " + label + ".acme.delegated.test.\n";
    }
    for (const auto& line : extra) {
        text += line + "\n";
    }
    return text;
}

std::string config_text(
    std::uint16_t dns_port,
    std::uint16_t api_port,
    const pebble_ca& pebble,
    const std::string& resolver,
    const backend_rig_options& options
)
{
    std::string text =
        (options.store ? "[store]\ndatabase = \"" + options.database +
                             "\"\nmaster_key_file = \"master.key\"\n\n"
                       : std::string()) +
        "[dns]\nlisten = [\"127.0.0.1:" + std::to_string(dns_port) +
        "\"]\nchallenge_ttl = 1\n\n"
        "[[dns.zone]]\napex = \"acme.delegated.test\"\nttl = 1\n"
        "soa = { mname = \"ns1\", rname = \"hostmaster.customer.test.\", minimum = 1 }\n"
        "ns = [ { name = \"ns1\", addresses = [\"127.0.0.1\"] } ]\n\n"
        "[acme]\ndirectory = \"" +
        pebble.directory_url() + "\"\nca_bundle = \"" + pebble.https_ca_file().string() +
        "\"\ncontact = [\"mailto:ops@customer.test\"]\nmax_concurrent_orders = " +
        std::to_string(options.max_concurrent_orders) +
        "\n\n"
        "[preflight]\nresolvers = [\"" +
        resolver + "\"]\n" + options.preflight_config + "\n\n[renewal]\n" + options.renewal_config +
        "\n\n";
    for (const auto& [name, label] : options.domains) {
        text += "[[domain]]\nname = \"" + name + "\"\ntarget = \"" + label +
                ".acme.delegated.test\"\n\n";
    }
    if (options.api) {
        text += "[api]\nlisten = [\"127.0.0.1:" + std::to_string(api_port) + "\"]\ntls = \"" +
                options.api_tls + "\"\n" + options.api_config + "\n\n";
    }
    return text + options.extra_config;
}

} // namespace

bool key_matches_certificate(
    const std::filesystem::path& certificate, const std::filesystem::path& key
)
{
    const auto from_cert =
        run({"openssl", "x509", "-in", certificate.string(), "-noout", "-pubkey"});
    const auto from_key = run({"openssl", "pkey", "-in", key.string(), "-pubout"});
    return from_cert.exit_code == 0 && from_key.exit_code == 0 && !from_cert.out.empty() &&
           from_cert.out == from_key.out;
}

backend_rig_options preflight_cases()
{
    return {
        .domains =
            {{"good.customer.test", "good"},
             {"missing.customer.test", "missing"},
             {"wrong.customer.test", "wrong"},
             {"caa.customer.test", "caa"}},
        .cnames =
            std::map<std::string, std::string>{
                {"good.customer.test", "good"},
                {"wrong.customer.test", "somewhere-else"},
                {"caa.customer.test", "caa"}},
        .extra_zone_lines = {"caa IN CAA 0 issue \"otherca.example\""},
    };
}

backend_rig::backend_rig(backend_rig_options options)
    : dns_port_(free_port()), cnames_(options.cnames.value_or(options.domains)),
      extra_zone_lines_(options.extra_zone_lines)
{
    if (options.api) {
        api_port_ = free_port();
    }
    customer_ = std::make_unique<nsd_server>(
        dir_,
        nsd_options{.zones = {nsd_zone{"customer.test", zone_text(cnames_, extra_zone_lines_)}}}
    );
    resolver_ = std::make_unique<unbound_resolver>(
        dir_,
        unbound_options{
            .stubs =
                {stub_zone{"customer.test", {customer_->port()}},
                 stub_zone{"acme.delegated.test", {dns_port_}}}}
    );
    options.pebble.dns_server = resolver_->address();
    pebble_ = std::make_unique<pebble_ca>(dir_, options.pebble);
    config_ = dir_.write(
        "certfleet/certfleet.toml",
        config_text(dns_port_, api_port_, *pebble_, resolver_->address(), options)
    );
    if (!options.store) {
        return;
    }
    const auto init = run_certfleet({"init", "--config", config_.string()});
    if (init.exit_code != 0) {
        throw rig_error("certfleet init failed: " + init.err);
    }
}

backend_rig::~backend_rig()
{
    if (serve_) {
        serve_->stop();
    }
}

run_result backend_rig::certfleet(std::vector<std::string> args, std::chrono::seconds timeout) const
{
    args.push_back("--config");
    args.push_back(config_.string());
    return run_certfleet(args, run_options{.timeout = timeout});
}

run_result backend_rig::issue(
    const std::string& name, const std::filesystem::path& out, const std::filesystem::path& tmpdir
) const
{
    return run_certfleet(
        {"issue", "--config", config_.string(), "--name", name, "--out-dir", out.string()},
        run_options{.timeout = std::chrono::seconds(120), .env = {"TMPDIR=" + tmpdir.string()}}
    );
}

nlohmann::json backend_rig::certfleet_json(std::vector<std::string> args) const
{
    args.push_back("--json");
    const auto r = certfleet(args);
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    if (j.is_discarded()) {
        throw rig_error(
            "certfleet " + join_command(args) + " printed no JSON (exit " +
            std::to_string(r.exit_code) + "): " + r.out + r.err
        );
    }
    return j;
}

void backend_rig::set_cname(const std::string& name, const std::string& label)
{
    cnames_[name] = label;
    customer_->replace_zone({"customer.test", zone_text(cnames_, extra_zone_lines_)});
    const auto target = label + ".acme.delegated.test.";
    const bool ready = wait_for_udp_dns(
        customer_->port(),
        {
            .query = {.name = "_acme-challenge." + name, .type = dns::rr_type::cname, .flags = 0},
            .timeout = std::chrono::milliseconds(10'000),
            .process = &customer_->process(),
            .accept = [&](const decoded_response& r
                      ) { return !r.answer.empty() && r.answer.front().data == target; },
        }
    );
    if (!ready) {
        throw rig_error(
            "NSD did not serve the new CNAME of " + name + "; its log:\n" +
            tail_lines(customer_->process().log(), 20)
        );
    }
}

void backend_rig::start_serve()
{
    if (serve_) {
        serve_->stop();
    }
    ++serve_starts_;
    serve_ = std::make_unique<child_process>(child_options{
        .argv = {certfleet_binary().string(), "serve", "--config", config_.string(), "--verbose"},
        .log_file = dir_.path() / "certfleet" / "serve.log"});
    const bool ready = wait_for_udp_dns(
        dns_port_,
        {
            .query = {.name = "acme.delegated.test", .type = dns::rr_type::soa, .flags = 0},
            .timeout = std::chrono::milliseconds(10'000),
            .process = serve_.get(),
            .accept = [](const decoded_response& r
                      ) { return r.rcode() == 0 && r.flag(dns::flag::aa); },
        }
    );
    if (ready && api_port_ != 0 &&
        !wait_for_tcp(api_port_, std::chrono::milliseconds(10000), serve_.get())) {
        throw rig_error(
            "certfleet serve's API did not listen; its log:\n" + tail_lines(serve_->log(), 40)
        );
    }
    if (!ready) {
        throw rig_error(
            "certfleet serve did not start; its log:\n" + tail_lines(serve_->log(), 40)
        );
    }
}

void backend_rig::kill_serve()
{
    if (serve_ && serve_->running()) {
        serve_->signal(SIGKILL);
        serve_->wait(std::chrono::milliseconds(5000));
    }
}

int backend_rig::stop_serve()
{
    return serve_ ? serve_->stop() : 0;
}

namespace {

std::size_t occurrences(const std::string& text, std::string_view needle)
{
    std::size_t n = 0;
    for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) {
        ++n;
    }
    return n;
}

} // namespace

std::size_t backend_rig::pebble_orders() const
{
    return occurrences(read_text_file(pebble_->process().log_file()), "Added order \"");
}

std::size_t backend_rig::pebble_account_requests() const
{
    return occurrences(read_text_file(pebble_->process().log_file()), "POST /sign-me-up ");
}

std::size_t backend_rig::valid_count() const
{
    const auto list = certfleet({"cert", "list", "--json"});
    auto j = nlohmann::json::parse(list.out, nullptr, false);
    std::size_t n = 0;
    if (j.is_array()) {
        for (const auto& c : j) {
            n += c.value("state", "") == "valid" ? 1 : 0;
        }
    }
    return n;
}

bool backend_rig::wait_all_valid(std::size_t expected, std::chrono::seconds limit) const
{
    const auto until = std::chrono::steady_clock::now() + limit;
    while (std::chrono::steady_clock::now() < until) {
        const auto list = certfleet({"cert", "list", "--json"});
        auto j = nlohmann::json::parse(list.out, nullptr, false);
        if (j.is_array() && j.size() == expected) {
            bool all = true;
            for (const auto& c : j) {
                all = all && c.value("state", "") == "valid";
            }
            if (all) {
                return true;
            }
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
    }
    return false;
}

std::string api_reply::header(std::string_view name) const
{
    for (const auto& [k, v] : headers) {
        if (boost::beast::iequals(k, name)) {
            return v;
        }
    }
    return {};
}

std::string backend_rig::api_url() const
{
    return "https://127.0.0.1:" + std::to_string(api_port_);
}

std::string backend_rig::api_fingerprint() const
{
    const auto pem = read_text_file(config_.parent_path() / "api-cert.pem");
    auto chain = core::parse_pem_chain(pem);
    if (!chain || chain->empty()) {
        throw rig_error("the API certificate is unreadable");
    }
    return core::to_hex(chain->front().sha256_fingerprint);
}

api_reply backend_rig::api(
    boost::beast::http::verb method,
    const std::string& target,
    const std::string& token,
    const std::string& body,
    std::vector<std::pair<std::string, std::string>> headers
) const
{
    boost::asio::io_context io;
    net::http_client_options options;
    options.pinned_sha256 = api_fingerprint();
    options.request_timeout = std::chrono::seconds(120);
    net::http_client client(io.get_executor(), options);
    net::http_request request;
    request.method = method;
    request.url = api_url() + target;
    request.body = body;
    if (!body.empty()) {
        request.content_type = "application/json";
    }
    if (!token.empty()) {
        headers.emplace_back("Authorization", "Bearer " + token);
    }
    request.headers = std::move(headers);
    api_reply out;
    boost::asio::co_spawn(
        io, client.request_detailed(std::move(request)),
        [&out](std::exception_ptr, boost::system::result<net::http_response, net::http_error> r) {
            if (r) {
                out.status = r->status;
                out.body = std::move(r->body);
                out.headers = std::move(r->headers);
            } else {
                out.error = r.error().message();
            }
        }
    );
    io.run();
    return out;
}

std::string backend_rig::make_token(const std::string& name, const std::string& scope) const
{
    const auto r = certfleet({"token", "create", "--name", name, "--scope", scope});
    if (r.exit_code != 0) {
        throw rig_error("certfleet token create failed: " + r.err);
    }
    auto secret = r.out;
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    return secret;
}

} // namespace certfleet::test
