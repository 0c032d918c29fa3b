#include "windows/win_process.hpp"

#include <windows.h>

#include <algorithm>
#include <map>
#include <thread>
#include <vector>

#include "core/crypto/secure_wipe.hpp"
#include "deploy/errc.hpp"

#include "windows/text.hpp"

namespace certfleet::deploy {
namespace {

struct handle
{
    HANDLE h = nullptr;
    handle() = default;
    explicit handle(HANDLE value) : h{value} {}
    handle(const handle&) = delete;
    handle& operator=(const handle&) = delete;
    ~handle() { reset(); }
    void reset()
    {
        if (h != nullptr && h != INVALID_HANDLE_VALUE) {
            CloseHandle(h);
        }
        h = nullptr;
    }
};

// The agent's environment with `extra` added (replacing variables of the same name, which
// Windows compares without regard to case), as a CreateProcessW block.
std::wstring environment_block(const std::vector<std::pair<std::string, std::string>>& extra)
{
    struct no_case
    {
        bool operator()(const std::wstring& a, const std::wstring& b) const
        {
            return CompareStringOrdinal(
                       a.c_str(), static_cast<int>(a.size()), b.c_str(), static_cast<int>(b.size()),
                       TRUE
                   ) == CSTR_LESS_THAN;
        }
    };
    std::map<std::wstring, std::wstring, no_case> variables;
    if (wchar_t* block = GetEnvironmentStringsW()) {
        for (const wchar_t* entry = block; *entry != L'\0'; entry += wcslen(entry) + 1) {
            const std::wstring_view text{entry};
            // Entries such as "=C:=C:\" (per-drive directories) start with '='.
            const auto equals = text.find(L'=', 1);
            if (equals != std::wstring_view::npos) {
                variables[std::wstring(text.substr(0, equals))] = text.substr(equals + 1);
            }
        }
        FreeEnvironmentStringsW(block);
    }
    for (const auto& [name, value] : extra) {
        variables[widen(name)] = widen(value);
    }
    std::wstring out;
    for (const auto& [name, value] : variables) {
        out += name + L"=" + value;
        out += L'\0';
    }
    out += L'\0';
    return out;
}

struct input_feed
{
    HANDLE pipe;
    std::string* bytes;
};

DWORD WINAPI feed_input(void* argument)
{
    const auto* feed = static_cast<input_feed*>(argument);
    std::string_view rest{*feed->bytes};
    while (!rest.empty()) {
        DWORD written = 0;
        const auto chunk = static_cast<DWORD>(std::min<std::size_t>(rest.size(), 65536));
        if (!WriteFile(feed->pipe, rest.data(), chunk, &written, nullptr)) {
            break; // the program closed its input or ended
        }
        rest.remove_prefix(written);
    }
    CloseHandle(feed->pipe);
    return 0;
}

// Reads what the pipe holds now, without blocking; false at end of file.
bool drain(HANDLE pipe, std::string& out, std::size_t max_bytes)
{
    DWORD available = 0;
    if (!PeekNamedPipe(pipe, nullptr, 0, nullptr, &available, nullptr)) {
        return false; // every writer closed its end
    }
    char buffer[8192];
    while (available > 0) {
        DWORD read = 0;
        if (!ReadFile(pipe, buffer, std::min<DWORD>(available, sizeof buffer), &read, nullptr) ||
            read == 0) {
            return false;
        }
        available -= read;
        if (out.size() < max_bytes) {
            out.append(buffer, std::min<std::size_t>(read, max_bytes - out.size()));
        }
    }
    return true;
}

} // namespace

std::wstring quote_argument(std::wstring_view argument)
{
    if (!argument.empty() && argument.find_first_of(L" \t\n\v\"") == std::wstring_view::npos) {
        return std::wstring(argument);
    }
    std::wstring out = L"\"";
    std::size_t backslashes = 0;
    for (const wchar_t c : argument) {
        if (c == L'\\') {
            ++backslashes;
            continue;
        }
        // Backslashes before a quote are doubled, and the quote escaped.
        out.append(c == L'"' ? backslashes * 2 + 1 : backslashes, L'\\');
        backslashes = 0;
        out += c;
    }
    out.append(backslashes * 2, L'\\'); // before the closing quote
    out += L'"';
    return out;
}

boost::system::result<process_outcome> win_process_runner::run(process_request request) const
{
    struct wipe_input
    {
        std::string& s;
        ~wipe_input() { core::secure_wipe(s.data(), s.size()); }
    } wipe{request.input};
    if (request.argv.empty() || request.argv.front().empty()) {
        return errc::process_failed;
    }
    std::wstring command_line;
    for (const auto& argument : request.argv) {
        command_line += (command_line.empty() ? L"" : L" ") + quote_argument(widen(argument));
    }
    auto environment = environment_block(request.environment);

    SECURITY_ATTRIBUTES inheritable{sizeof(SECURITY_ATTRIBUTES), nullptr, TRUE};
    handle input_read;
    handle input_write;
    handle output_read;
    handle output_write;
    if (!CreatePipe(&input_read.h, &input_write.h, &inheritable, 0) ||
        !CreatePipe(&output_read.h, &output_write.h, &inheritable, 0) ||
        !SetHandleInformation(input_write.h, HANDLE_FLAG_INHERIT, 0) ||
        !SetHandleInformation(output_read.h, HANDLE_FLAG_INHERIT, 0)) {
        return errc::process_failed;
    }
    HANDLE inherited[] = {input_read.h, output_write.h};
    SIZE_T attribute_size = 0;
    InitializeProcThreadAttributeList(nullptr, 1, 0, &attribute_size);
    std::vector<char> attribute_storage(attribute_size);
    auto* attributes = reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(attribute_storage.data());
    if (!InitializeProcThreadAttributeList(attributes, 1, 0, &attribute_size) ||
        !UpdateProcThreadAttribute(
            attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST, inherited, sizeof inherited, nullptr,
            nullptr
        )) {
        return errc::process_failed;
    }
    STARTUPINFOEXW startup{};
    startup.StartupInfo.cb = sizeof startup;
    startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
    startup.StartupInfo.hStdInput = input_read.h;
    startup.StartupInfo.hStdOutput = output_write.h;
    startup.StartupInfo.hStdError = output_write.h;
    startup.lpAttributeList = attributes;

    const handle job{CreateJobObjectW(nullptr, nullptr)};
    PROCESS_INFORMATION process{};
    const std::wstring directory = request.working_directory.wstring();
    const BOOL started = CreateProcessW(
        nullptr, command_line.data(), nullptr, nullptr, TRUE,
        CREATE_SUSPENDED | CREATE_NO_WINDOW | CREATE_UNICODE_ENVIRONMENT |
            EXTENDED_STARTUPINFO_PRESENT,
        environment.data(), directory.empty() ? nullptr : directory.c_str(), &startup.StartupInfo,
        &process
    );
    DeleteProcThreadAttributeList(attributes);
    if (!started) {
        return errc::process_failed;
    }
    const handle process_handle{process.hProcess};
    const handle thread_handle{process.hThread};
    if (job.h != nullptr) {
        AssignProcessToJobObject(job.h, process.hProcess);
    }
    ResumeThread(process.hThread);
    // Only the child holds these ends now: end of file comes when it (and its children) exit.
    input_read.reset();
    output_write.reset();

    input_feed feed{std::exchange(input_write.h, nullptr), &request.input};
    const handle feeder{CreateThread(nullptr, 0, feed_input, &feed, 0, nullptr)};
    if (feeder.h == nullptr) {
        CloseHandle(feed.pipe);
    }

    process_outcome outcome;
    const auto deadline = std::chrono::steady_clock::now() + request.timeout;
    bool timed_out = false;
    for (;;) {
        const bool open = drain(output_read.h, outcome.output, request.max_output_bytes);
        if (WaitForSingleObject(process.hProcess, 0) == WAIT_OBJECT_0) {
            drain(output_read.h, outcome.output, request.max_output_bytes);
            break;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            timed_out = true;
            if (job.h == nullptr || !TerminateJobObject(job.h, 1)) {
                TerminateProcess(process.hProcess, 1);
            }
            WaitForSingleObject(process.hProcess, 5000);
            break;
        }
        WaitForSingleObject(process.hProcess, open ? 10 : 100);
    }
    if (feeder.h != nullptr) {
        // A background child that inherited nothing cannot hold the input: the feeder ends when
        // the pipe breaks; one that is stuck anyway is cancelled.
        if (WaitForSingleObject(feeder.h, 2000) != WAIT_OBJECT_0) {
            CancelSynchronousIo(feeder.h);
            WaitForSingleObject(feeder.h, INFINITE);
        }
    }
    if (timed_out) {
        return errc::process_timeout;
    }
    DWORD code = 0;
    GetExitCodeProcess(process.hProcess, &code);
    outcome.exit_code = static_cast<int>(code);
    return outcome;
}

} // namespace certfleet::deploy
