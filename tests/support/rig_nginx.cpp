#include "support/rig_nginx.hpp"

#include <fstream>
#include <thread>

#include "support/rig_net.hpp"

namespace certfleet::test {
namespace {

// sha256sum of nothing: no certificate came.
constexpr std::string_view empty_sha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

} // namespace

std::string served_sha256(std::uint16_t port, const std::string& sni)
{
    const auto r =
        run({"sh", "-c",
             "openssl s_client -connect 127.0.0.1:" + std::to_string(port) + " -servername " + sni +
                 " </dev/null 2>/dev/null | openssl x509 -outform DER 2>/dev/null | sha256sum"},
            {.timeout = std::chrono::seconds(10)});
    const auto hex = r.out.substr(0, r.out.find(' '));
    return hex == empty_sha256 ? "" : hex;
}

std::string shell_line(const std::vector<std::string>& argv)
{
    std::string out;
    for (const auto& a : argv) {
        out += (out.empty() ? "'" : " '");
        for (const char c : a) {
            out += c == '\'' ? std::string("'\\''") : std::string(1, c);
        }
        out += '\'';
    }
    return out;
}

void write_placeholder_certificate(const std::filesystem::path& tls)
{
    const auto r = run(
        {"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
         "-nodes", "-keyout", (tls / "key.pem").string(), "-out", (tls / "fullchain.pem").string(),
         "-subj", "/CN=placeholder", "-days", "2"}
    );
    if (r.exit_code != 0) {
        throw rig_error("openssl req failed: " + r.err);
    }
}

nginx_server::nginx_server(
    const std::filesystem::path& dir, const std::filesystem::path& tls, std::string sni
)
    : dir_(dir), port_(free_port()), program_(find_program("nginx").string()), sni_(std::move(sni))
{
    std::string conf = "daemon off;\nmaster_process on;\nworker_processes 1;\n"
                       "pid " +
                       (dir / "nginx.pid").string() +
                       ";\n"
                       "error_log " +
                       (dir / "error.log").string() +
                       " info;\n"
                       "events { worker_connections 64; }\nhttp {\n  access_log off;\n";
    for (const char* temp : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"}) {
        conf += "  " + std::string(temp) + "_temp_path " + (dir / temp).string() + ";\n";
    }
    conf += "  server {\n    listen 127.0.0.1:" + std::to_string(port_) + " ssl;\n" +
            "    ssl_certificate " + (tls / "fullchain.pem").string() + ";\n" +
            "    ssl_certificate_key " + (tls / "key.pem").string() + ";\n" +
            "    location / { return 200 \"ok\\n\"; }\n  }\n}\n";
    std::ofstream(dir / "nginx.conf") << conf;
}

void nginx_server::start()
{
    process_.emplace(child_options{
        .argv = command_with({}),
        .log_file = dir_ / "nginx.out",
    });
    if (!wait_for_tcp(port_, std::chrono::seconds(10), &*process_)) {
        throw rig_error(
            "nginx did not start listening: " + tail_lines(process_->log()) +
            tail_lines(error_log())
        );
    }
}

std::vector<std::string> nginx_server::command_with(std::vector<std::string> extra) const
{
    std::vector<std::string> argv{
        program_,
        "-p",
        dir_.string(),
        "-c",
        (dir_ / "nginx.conf").string(),
        "-e",
        (dir_ / "error.log").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

std::string nginx_server::test_and_reload() const
{
    return shell_line(command_with({"-t"})) + " && " + shell_line(command_with({"-s", "reload"}));
}

bool nginx_server::serves(const std::string& sha256, std::chrono::milliseconds timeout) const
{
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (serving() != sha256) {
        if (std::chrono::steady_clock::now() >= deadline) {
            return false;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return true;
}

std::string nginx_server::serving() const
{
    return served_sha256(port_, sni_);
}

std::string nginx_server::error_log() const
{
    return read_text_file(dir_ / "error.log");
}

} // namespace certfleet::test
