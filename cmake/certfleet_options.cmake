# One INTERFACE target carries the language level and the warnings for every target.
add_library(certfleet_options INTERFACE)
add_library(certfleet::options ALIAS certfleet_options)
target_compile_features(certfleet_options INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)
target_compile_options(certfleet_options INTERFACE
    -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wnon-virtual-dtor -Wold-style-cast
    $<$<BOOL:${CERTFLEET_WERROR}>:-Werror>)
# GCC 12 reports Asio's coroutine frame allocator as mismatched new/delete at -O2: a known false
# positive (the frame is allocated and freed by the same awaitable_frame_base operators).
target_compile_options(certfleet_options INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-mismatched-new-delete>)
# GCC 12 also warns when a designated initializer leaves members to their default member
# initializers, which is what designated initializers are for.
target_compile_options(certfleet_options INTERFACE $<$<CXX_COMPILER_ID:GNU>:-Wno-missing-field-initializers>)
