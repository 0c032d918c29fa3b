#include "support/pebble_rig.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <nlohmann/json.hpp>

#include "net/http_client.hpp"
#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

void openssl(const std::vector<std::string>& args)
{
    std::vector<std::string> argv{"openssl"};
    argv.insert(argv.end(), args.begin(), args.end());
    const auto r = run(argv);
    if (r.exit_code != 0) {
        throw rig_error("openssl failed: " + join_command(argv) + "\n" + tail_lines(r.err));
    }
}

} // namespace

std::string https_get(const std::string& url, const std::filesystem::path& ca_file)
{
    boost::asio::io_context io;
    net::http_client_options options;
    options.ca_file = ca_file.string();
    options.request_timeout = std::chrono::milliseconds(5000);
    net::http_client client(io.get_executor(), options);
    std::optional<boost::system::result<net::http_response>> result;
    boost::asio::co_spawn(
        io,
        [&]() -> boost::asio::awaitable<void> {
            net::http_request request;
            request.url = url;
            result = co_await client.request(std::move(request));
        },
        boost::asio::detached
    );
    io.run();
    if (!result || !*result) {
        throw rig_error(
            "GET " + url +
            " failed: " + (result ? result->error().message() : std::string("no result"))
        );
    }
    if ((*result)->status != 200) {
        throw rig_error("GET " + url + " answered " + std::to_string((*result)->status));
    }
    return (*result)->body;
}

pebble_ca::pebble_ca(const temp_dir& dir, pebble_options options)
{
    const auto base = dir.subdir("pebble");
    https_ca_ = base / "https-ca.pem";
    const auto ca_key = base / "https-ca.key";
    const auto key = base / "key.pem";
    const auto cert = base / "cert.pem";
    const auto csr = base / "req.csr";
    const auto ext = dir.write("pebble/ext.cnf", "subjectAltName=DNS:localhost,IP:127.0.0.1\n");
    openssl(
        {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", ca_key.string(), "-out", https_ca_.string(), "-days", "2", "-subj",
         "/CN=certfleet test HTTPS CA"}
    );
    openssl(
        {"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout",
         key.string(), "-out", csr.string(), "-subj", "/CN=localhost"}
    );
    openssl(
        {"x509", "-req", "-in", csr.string(), "-CA", https_ca_.string(), "-CAkey", ca_key.string(),
         "-CAcreateserial", "-out", cert.string(), "-days", "2", "-extfile", ext.string()}
    );

    port_ = free_port();
    management_port_ = free_port();
    nlohmann::json config{
        {"pebble",
         {{"listenAddress", "127.0.0.1:" + std::to_string(port_)},
          {"managementListenAddress", "127.0.0.1:" + std::to_string(management_port_)},
          {"certificate", cert.string()},
          {"privateKey", key.string()},
          {"httpPort", free_port()},
          {"tlsPort", free_port()},
          {"ocspResponderURL", ""},
          {"externalAccountBindingRequired", options.eab_required},
          {"externalAccountMACKeys", options.eab_keys}}}};
    const auto config_file = dir.write("pebble/pebble.json", config.dump(2));

    child_options child;
    child.argv = {"pebble", "-config", config_file.string(), "-dnsserver", options.dns_server};
    child.log_file = base / "pebble.log";
    child.env = {
        "PEBBLE_VA_NOSLEEP=1",
        "PEBBLE_WFE_NONCEREJECT=" + std::to_string(options.nonce_reject_percent),
        "PEBBLE_AUTHZREUSE=" + std::to_string(options.authz_reuse_percent),
    };
    if (options.chain_length) {
        child.env.push_back("PEBBLE_CHAIN_LENGTH=" + std::to_string(*options.chain_length));
    }
    if (options.alternate_roots) {
        child.env.push_back("PEBBLE_ALTERNATE_ROOTS=" + std::to_string(*options.alternate_roots));
    }
    process_ = std::make_unique<child_process>(std::move(child));
    for (const auto port : {port_, management_port_}) {
        if (!wait_for_tcp(port, std::chrono::seconds(10), process_.get())) {
            throw rig_error(
                "pebble did not start listening on port " + std::to_string(port) + ":\n" +
                tail_lines(process_->log())
            );
        }
    }
}

pebble_ca::~pebble_ca() = default;

std::string pebble_ca::directory_url() const
{
    return "https://127.0.0.1:" + std::to_string(port_) + "/dir";
}

std::string pebble_ca::management_get(const std::string& path) const
{
    return https_get("https://127.0.0.1:" + std::to_string(management_port_) + path, https_ca_);
}

std::string pebble_ca::issuance_root_pem(int index) const
{
    return management_get("/roots/" + std::to_string(index));
}

std::string pebble_ca::issuance_intermediate_pem(int index) const
{
    return management_get("/intermediates/" + std::to_string(index));
}

} // namespace certfleet::test
