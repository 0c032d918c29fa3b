#include "deploy/file_backup.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>

#include "core/atomic_file.hpp"
#include "core/crypto/secret.hpp"

namespace certfleet::deploy {
namespace {

constexpr const char* manifest_name = "manifest.json";

boost::system::error_code last_error()
{
    return {errno, boost::system::system_category()};
}

// The whole file, held as a secret (it may be a private key).
boost::system::result<core::secret> read_secret_file(const std::filesystem::path& file)
{
    std::ifstream in(file, std::ios::binary);
    if (!in) {
        return last_error();
    }
    // Reserved first: a string that grows leaves freed copies of the key behind.
    std::error_code ec;
    const auto size = std::filesystem::file_size(file, ec);
    std::string bytes;
    bytes.reserve(ec ? 0 : static_cast<std::size_t>(size));
    bytes.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) {
        const auto wiped = core::secret::adopt(std::move(bytes));
        return make_error_code(boost::system::errc::io_error);
    }
    return core::secret::adopt(std::move(bytes));
}

boost::system::error_code
write_manifest(const std::vector<saved_file>& saved, const std::filesystem::path& directory)
{
    auto files = nlohmann::json::array();
    for (const auto& s : saved) {
        nlohmann::json entry{{"path", s.target.string()}, {"existed", s.existed}};
        if (s.existed) {
            entry["copy"] = s.copy.string();
            entry["mode"] = s.mode;
            entry["owner"] = s.owner;
            entry["group"] = s.group;
        }
        files.push_back(std::move(entry));
    }
    const auto text = nlohmann::json{{"files", files}}.dump(2) + "\n";
    return core::write_file_atomically(
        directory / manifest_name, text, {.mode = 0600, .keep_existing_owner_and_mode = false}
    );
}

// Copies one file that exists; `saved.copy` names where.
boost::system::error_code copy_file(const saved_file& saved)
{
    auto bytes = read_secret_file(saved.target);
    if (!bytes) {
        return bytes.error();
    }
    return core::write_file_atomically(
        saved.copy, bytes->view(), {.mode = 0600, .keep_existing_owner_and_mode = false}
    );
}

// True when the file at s.target holds `content` with the saved mode, owner and group.
bool unchanged(const saved_file& s, std::string_view content)
{
    struct stat st
    {};
    if (::stat(s.target.c_str(), &st) != 0 || (st.st_mode & 07777) != s.mode ||
        st.st_uid != s.owner || st.st_gid != s.group ||
        static_cast<std::size_t>(st.st_size) != content.size()) {
        return false;
    }
    auto current = read_secret_file(s.target);
    return current && current->view() == content;
}

} // namespace

boost::system::result<std::vector<saved_file>> back_up_files(
    const std::vector<std::filesystem::path>& targets, const std::filesystem::path& directory
)
{
    if (auto ec = core::ensure_directory(directory, 0700)) {
        return ec;
    }
    discard_backup(directory);
    std::vector<saved_file> saved;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        saved_file s{.target = targets[i]};
        struct stat st
        {};
        if (::stat(s.target.c_str(), &st) != 0) {
            if (errno != ENOENT) {
                return last_error();
            }
            saved.push_back(std::move(s));
            continue;
        }
        if (!S_ISREG(st.st_mode)) {
            return make_error_code(boost::system::errc::not_supported);
        }
        s.existed = true;
        s.copy = directory / (std::to_string(i) + "." + s.target.filename().string());
        s.mode = st.st_mode & 07777;
        s.owner = st.st_uid;
        s.group = st.st_gid;
        if (auto ec = copy_file(s)) {
            return ec;
        }
        saved.push_back(std::move(s));
    }
    if (auto ec = write_manifest(saved, directory)) {
        return ec;
    }
    return saved;
}

boost::system::error_code restore_files(const std::vector<saved_file>& saved)
{
    // File by file, going on past a failure so that as much as possible is back; a file that
    // already is as it was (the write stopped before reaching it) is left alone.
    boost::system::error_code first;
    auto note = [&](boost::system::error_code ec) {
        if (ec && !first) {
            first = ec;
        }
    };
    for (const auto& s : saved) {
        if (!s.existed) {
            if (::unlink(s.target.c_str()) != 0 && errno != ENOENT) {
                note(last_error());
            }
            continue;
        }
        auto bytes = read_secret_file(s.copy);
        if (!bytes) {
            note(bytes.error());
            continue;
        }
        if (unchanged(s, bytes->view())) {
            continue;
        }
        note(core::write_file_atomically(
            s.target, bytes->view(),
            {.mode = s.mode,
             .keep_existing_owner_and_mode = false,
             .owner = s.owner,
             .group = s.group}
        ));
    }
    return first;
}

void discard_backup(const std::filesystem::path& directory)
{
    std::error_code ec;
    std::vector<std::filesystem::path> files;
    for (const auto& entry : std::filesystem::directory_iterator(directory, ec)) {
        if (entry.is_regular_file(ec)) {
            files.push_back(entry.path());
        }
    }
    for (const auto& f : files) {
        std::filesystem::remove(f, ec);
    }
}

} // namespace certfleet::deploy
