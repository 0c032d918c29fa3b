#include "windows/service.hpp"

#include <windows.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "windows/text.hpp"

namespace certfleet::windows {
namespace {

using deploy::narrow;
using deploy::widen;

struct service_handle
{
    SC_HANDLE h = nullptr;
    explicit service_handle(SC_HANDLE value) : h{value} {}
    service_handle(const service_handle&) = delete;
    service_handle& operator=(const service_handle&) = delete;
    ~service_handle()
    {
        if (h != nullptr) {
            CloseServiceHandle(h);
        }
    }
};

std::string system_message(DWORD error)
{
    wchar_t* text = nullptr;
    FormatMessageW(
        FORMAT_MESSAGE_ALLOCATE_BUFFER | FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS,
        nullptr, error, 0, reinterpret_cast<wchar_t*>(&text), 0, nullptr
    );
    std::string out = text != nullptr ? narrow(text) : "error " + std::to_string(error);
    LocalFree(text);
    while (!out.empty() && (out.back() == '\n' || out.back() == '\r' || out.back() == ' ')) {
        out.pop_back();
    }
    return out;
}

std::string failed(const std::string& what)
{
    const DWORD error = GetLastError();
    std::string text = what + ": " + system_message(error);
    if (error == ERROR_ACCESS_DENIED) {
        text += " (run it from an elevated prompt: Run as administrator)";
    }
    return text;
}

std::wstring this_program()
{
    std::wstring path(MAX_PATH, L'\0');
    for (;;) {
        const DWORD n = GetModuleFileNameW(nullptr, path.data(), static_cast<DWORD>(path.size()));
        if (n < path.size()) {
            path.resize(n);
            return path;
        }
        path.resize(path.size() * 2);
    }
}

const char* state_name(DWORD state)
{
    switch (state) {
    case SERVICE_STOPPED:
        return "stopped";
    case SERVICE_START_PENDING:
        return "start pending";
    case SERVICE_STOP_PENDING:
        return "stop pending";
    case SERVICE_RUNNING:
        return "running";
    case SERVICE_CONTINUE_PENDING:
        return "continue pending";
    case SERVICE_PAUSE_PENDING:
        return "pause pending";
    case SERVICE_PAUSED:
        return "paused";
    default:
        return "unknown";
    }
}

// The running service's state, shared with its control handler.
SERVICE_STATUS_HANDLE status_handle = nullptr;
SERVICE_STATUS status{};
std::atomic<bool>* stop_flag = nullptr;
std::function<int()> service_body;

void report(DWORD state, DWORD exit_code = NO_ERROR, DWORD wait_hint = 0)
{
    static DWORD checkpoint = 1;
    status.dwServiceType = SERVICE_WIN32_OWN_PROCESS;
    status.dwCurrentState = state;
    status.dwControlsAccepted =
        state == SERVICE_RUNNING ? SERVICE_ACCEPT_STOP | SERVICE_ACCEPT_SHUTDOWN : 0;
    status.dwWin32ExitCode = exit_code == NO_ERROR ? NO_ERROR : ERROR_SERVICE_SPECIFIC_ERROR;
    status.dwServiceSpecificExitCode = exit_code;
    status.dwWaitHint = wait_hint;
    status.dwCheckPoint = state == SERVICE_RUNNING || state == SERVICE_STOPPED ? 0 : checkpoint++;
    SetServiceStatus(status_handle, &status);
}

DWORD WINAPI on_control(DWORD control, DWORD, void*, void*)
{
    if (control == SERVICE_CONTROL_STOP || control == SERVICE_CONTROL_SHUTDOWN) {
        // The agent checks the flag between requests and a long-poll in flight is cancelled.
        report(SERVICE_STOP_PENDING, NO_ERROR, 30'000);
        stop_flag->store(true);
        return NO_ERROR;
    }
    return control == SERVICE_CONTROL_INTERROGATE ? NO_ERROR : ERROR_CALL_NOT_IMPLEMENTED;
}

void WINAPI service_main(DWORD, wchar_t**)
{
    status_handle = RegisterServiceCtrlHandlerExW(service_name, on_control, nullptr);
    if (status_handle == nullptr) {
        return;
    }
    report(SERVICE_RUNNING);
    const int code = service_body();
    report(SERVICE_STOPPED, static_cast<DWORD>(code));
}

} // namespace

std::string install_service(const std::string& state_dir)
{
    const service_handle manager{
        OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT | SC_MANAGER_CREATE_SERVICE)};
    if (manager.h == nullptr) {
        return failed("cannot open the service control manager");
    }
    const std::wstring command =
        L"\"" + this_program() + L"\" service --state-dir \"" + widen(state_dir) + L"\"";
    service_handle service{CreateServiceW(
        manager.h, service_name, L"certfleet agent", SERVICE_ALL_ACCESS, SERVICE_WIN32_OWN_PROCESS,
        SERVICE_AUTO_START, SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr, nullptr,
        nullptr /* LocalSystem */, nullptr
    )};
    if (service.h == nullptr && GetLastError() == ERROR_SERVICE_EXISTS) {
        service.h = OpenServiceW(manager.h, service_name, SERVICE_ALL_ACCESS);
        if (service.h != nullptr && !ChangeServiceConfigW(
                                        service.h, SERVICE_WIN32_OWN_PROCESS, SERVICE_AUTO_START,
                                        SERVICE_ERROR_NORMAL, command.c_str(), nullptr, nullptr,
                                        nullptr, L"LocalSystem", nullptr, L"certfleet agent"
                                    )) {
            return failed("cannot update the certfleet-agent service");
        }
    }
    if (service.h == nullptr) {
        return failed("cannot create the certfleet-agent service");
    }
    wchar_t description[] =
        L"Installs the certificates a certfleet server assigns to this host (RRAS/SSTP, exec).";
    SERVICE_DESCRIPTIONW text{description};
    ChangeServiceConfig2W(service.h, SERVICE_CONFIG_DESCRIPTION, &text);
    SC_ACTION actions[] = {
        {SC_ACTION_RESTART, 10'000}, {SC_ACTION_RESTART, 60'000}, {SC_ACTION_RESTART, 300'000}};
    SERVICE_FAILURE_ACTIONSW failure{};
    failure.dwResetPeriod = 24 * 60 * 60;
    failure.cActions = 3;
    failure.lpsaActions = actions;
    if (!ChangeServiceConfig2W(service.h, SERVICE_CONFIG_FAILURE_ACTIONS, &failure)) {
        return failed("cannot set the service's restart on failure");
    }
    if (!StartServiceW(service.h, 0, nullptr) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING) {
        return failed("the service is installed but did not start");
    }
    return {};
}

std::string uninstall_service()
{
    const service_handle manager{OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT)};
    if (manager.h == nullptr) {
        return failed("cannot open the service control manager");
    }
    const service_handle service{
        OpenServiceW(manager.h, service_name, SERVICE_STOP | SERVICE_QUERY_STATUS | DELETE)};
    if (service.h == nullptr) {
        return failed("cannot open the certfleet-agent service");
    }
    SERVICE_STATUS now{};
    if (ControlService(service.h, SERVICE_CONTROL_STOP, &now)) {
        const auto until = std::chrono::steady_clock::now() + std::chrono::seconds{60};
        while (QueryServiceStatus(service.h, &now) && now.dwCurrentState != SERVICE_STOPPED &&
               std::chrono::steady_clock::now() < until) {
            std::this_thread::sleep_for(std::chrono::milliseconds{200});
        }
        if (now.dwCurrentState != SERVICE_STOPPED) {
            return "the certfleet-agent service did not stop within 60 s; try again";
        }
    }
    if (!DeleteService(service.h)) {
        return failed("cannot remove the certfleet-agent service");
    }
    return {};
}

std::string service_state()
{
    const service_handle manager{OpenSCManagerW(nullptr, nullptr, SC_MANAGER_CONNECT)};
    const service_handle service{
        manager.h == nullptr ? nullptr
                             : OpenServiceW(manager.h, service_name, SERVICE_QUERY_STATUS)};
    SERVICE_STATUS now{};
    if (service.h == nullptr || !QueryServiceStatus(service.h, &now)) {
        return "not installed";
    }
    return state_name(now.dwCurrentState);
}

bool run_as_service(std::function<int()> run, std::atomic<bool>& stop)
{
    service_body = std::move(run);
    stop_flag = &stop;
    wchar_t name[] = L"certfleet-agent";
    SERVICE_TABLE_ENTRYW table[] = {{name, service_main}, {nullptr, nullptr}};
    return StartServiceCtrlDispatcherW(table) != FALSE;
}

} // namespace certfleet::windows
