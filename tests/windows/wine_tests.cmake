# The Windows agent's tests, run by the Linux build's ctest: windows:build cross-builds
# build/windows (tests/windows/build.sh), then the Windows programs run under Wine, each test in a
# Wine prefix of its own. Included from tests/CMakeLists.txt.
set(windows_build ${PROJECT_SOURCE_DIR}/build/windows)
add_test(NAME windows:build
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/build.sh ${PROJECT_SOURCE_DIR})
set_tests_properties(windows:build PROPERTIES
    FIXTURES_SETUP windows_build LABELS "windows" TIMEOUT 1800)

add_test(NAME windows:unit
    COMMAND ${CMAKE_CURRENT_LIST_DIR}/run_wine.sh ${windows_build}/tests/windows/unit_windows.exe)
set_tests_properties(windows:unit PROPERTIES
    FIXTURES_REQUIRED windows_build LABELS "windows;unit" TIMEOUT 300)

# certfleet-agent.exe against `certfleet serve` (tests/windows/agent_wine_test.cpp).
add_executable(windows_agent_tests ${CMAKE_CURRENT_LIST_DIR}/agent_wine_test.cpp)
target_link_libraries(windows_agent_tests
    PRIVATE certfleet_test_main certfleet_test_rig certfleet_acme_rig certfleet_app_lib
            certfleet::options nlohmann_json::nlohmann_json)
target_compile_options(windows_agent_tests PRIVATE -Wno-missing-field-initializers)
target_compile_definitions(windows_agent_tests PRIVATE
    CERTFLEET_WINDOWS_BUILD="${windows_build}" CERTFLEET_SOURCE_DIR="${PROJECT_SOURCE_DIR}")
add_test(NAME windows:agent COMMAND windows_agent_tests)
set_tests_properties(windows:agent PROPERTIES
    FIXTURES_REQUIRED windows_build LABELS "windows;integration" TIMEOUT 600)
