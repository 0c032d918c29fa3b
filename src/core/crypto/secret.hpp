#pragma once
// A byte string that holds key material: move-only, never copied implicitly, and wiped with
// secure_wipe (crypto/secure_wipe.hpp) when destroyed or assigned over. Its bytes live in one heap
// block that moves by pointer, so a move leaves no copy behind (a std::string would keep short
// values inline). Compare secrets with constant_time_equal (crypto/hash.hpp), never with ==.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace certfleet::core {

class secret
{
public:
    secret() noexcept = default;
    // Copies `bytes`; the caller stays responsible for wiping its own copy.
    explicit secret(std::string_view bytes);
    // `size` zero bytes, to be filled through data().
    [[nodiscard]] static secret with_size(std::size_t size);
    // Takes the bytes of `text` and wipes `text`.
    [[nodiscard]] static secret adopt(std::string&& text);

    secret(secret&& other) noexcept;
    secret& operator=(secret&& other) noexcept;
    secret(const secret&) = delete;
    secret& operator=(const secret&) = delete;
    ~secret();

    [[nodiscard]] std::string_view view() const noexcept { return {data_.get(), size_}; }
    [[nodiscard]] char* data() noexcept { return data_.get(); }
    [[nodiscard]] std::size_t size() const noexcept { return size_; }
    [[nodiscard]] bool empty() const noexcept { return size_ == 0; }

private:
    void wipe() noexcept;

    std::unique_ptr<char[]> data_;
    std::size_t size_ = 0;
};

} // namespace certfleet::core
