// core/atomic_file.hpp on Windows: a temporary file beside the target, written and flushed to
// disk, then moved over the target with MoveFileEx (MOVEFILE_REPLACE_EXISTING | WRITE_THROUGH),
// which replaces it in one step. POSIX modes and owners do not apply: a new file takes the ACL
// its directory passes on. A directory made for private files (a mode without group or other
// bits, such as 0700) gets a protected ACL that admits SYSTEM and Administrators only, the owners
// the agent's service and its administrator are.
#include "core/atomic_file.hpp"

#include <windows.h>
// after windows.h
#include <aclapi.h>
#include <sddl.h>

#include <atomic>
#include <string>

namespace certfleet::core {
namespace {

boost::system::error_code last_error()
{
    return {static_cast<int>(GetLastError()), boost::system::system_category()};
}

std::filesystem::path temporary_beside(const std::filesystem::path& target)
{
    static std::atomic<unsigned> counter{0};
    const auto dir = target.has_parent_path() ? target.parent_path() : std::filesystem::path{"."};
    return dir /
           (L"." + target.filename().wstring() + L"." + std::to_wstring(GetCurrentProcessId()) +
            L"." + std::to_wstring(counter++) + L".tmp");
}

boost::system::error_code stage(const std::filesystem::path& temp, std::string_view content)
{
    HANDLE file = CreateFileW(
        temp.c_str(), GENERIC_WRITE, 0, nullptr, CREATE_NEW, FILE_ATTRIBUTE_NORMAL, nullptr
    );
    if (file == INVALID_HANDLE_VALUE) {
        return last_error();
    }
    boost::system::error_code ec;
    while (!content.empty() && !ec) {
        DWORD written = 0;
        const auto chunk = static_cast<DWORD>(std::min<std::size_t>(content.size(), 1U << 20));
        if (!WriteFile(file, content.data(), chunk, &written, nullptr)) {
            ec = last_error();
        }
        content.remove_prefix(written);
    }
    if (!ec && !FlushFileBuffers(file)) {
        ec = last_error();
    }
    CloseHandle(file);
    if (ec) {
        DeleteFileW(temp.c_str());
    }
    return ec;
}

} // namespace

boost::system::error_code write_file_atomically(
    const std::filesystem::path& target,
    std::string_view content,
    const atomic_write_options& options
)
{
    return write_files_atomically({file_content{target, content, options}});
}

boost::system::error_code write_files_atomically(const std::vector<file_content>& files)
{
    std::vector<std::filesystem::path> temps;
    auto discard = [&](std::size_t from, boost::system::error_code ec) {
        for (std::size_t i = from; i < temps.size(); ++i) {
            DeleteFileW(temps[i].c_str());
        }
        return ec;
    };
    for (const auto& f : files) {
        auto temp = temporary_beside(f.target);
        if (auto ec = stage(temp, f.content)) {
            return discard(0, ec);
        }
        temps.push_back(std::move(temp));
    }
    for (std::size_t i = 0; i < temps.size(); ++i) {
        if (!MoveFileExW(
                temps[i].c_str(), files[i].target.c_str(),
                MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH
            )) {
            return discard(i, last_error());
        }
    }
    return {};
}

boost::system::error_code
create_file_exclusively(const std::filesystem::path& target, std::string_view content, mode_t)
{
    const auto temp = temporary_beside(target);
    if (auto ec = stage(temp, content)) {
        return ec;
    }
    // Without MOVEFILE_REPLACE_EXISTING the move fails when anything is at the target.
    if (!MoveFileExW(temp.c_str(), target.c_str(), MOVEFILE_WRITE_THROUGH)) {
        const auto error = GetLastError();
        DeleteFileW(temp.c_str());
        if (error == ERROR_ALREADY_EXISTS || error == ERROR_FILE_EXISTS) {
            return make_error_code(boost::system::errc::file_exists);
        }
        return {static_cast<int>(error), boost::system::system_category()};
    }
    return {};
}

boost::system::error_code ensure_directory(const std::filesystem::path& dir, mode_t mode)
{
    std::error_code ec;
    const bool existed = std::filesystem::is_directory(dir, ec);
    std::filesystem::create_directories(dir, ec);
    if (!std::filesystem::is_directory(dir, ec)) {
        return ec ? boost::system::error_code{ec.value(), boost::system::system_category()}
                  : make_error_code(boost::system::errc::not_a_directory);
    }
    if (existed || (mode & 077) != 0) {
        return {};
    }
    return restrict_to_administrators(dir);
}

boost::system::error_code restrict_to_administrators(const std::filesystem::path& dir)
{
    // Protected (no inherited entries): full control for SYSTEM and Administrators, passed on
    // to files and subdirectories.
    PSECURITY_DESCRIPTOR descriptor = nullptr;
    if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(
            L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)", SDDL_REVISION_1, &descriptor, nullptr
        )) {
        return last_error();
    }
    BOOL present = FALSE;
    BOOL defaulted = FALSE;
    PACL dacl = nullptr;
    GetSecurityDescriptorDacl(descriptor, &present, &dacl, &defaulted);
    std::wstring path = dir.wstring();
    const DWORD error = SetNamedSecurityInfoW(
        path.data(), SE_FILE_OBJECT,
        DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION, nullptr, nullptr, dacl,
        nullptr
    );
    LocalFree(descriptor);
    return error == ERROR_SUCCESS ? boost::system::error_code{}
                                  : boost::system::error_code{
                                        static_cast<int>(error), boost::system::system_category()};
}

} // namespace certfleet::core
