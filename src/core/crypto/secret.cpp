#include "core/crypto/secret.hpp"

#include <algorithm>
#include <utility>

#include "core/crypto/secure_wipe.hpp"

namespace certfleet::core {

secret::secret(std::string_view bytes) : secret{with_size(bytes.size())}
{
    std::copy(bytes.begin(), bytes.end(), data_.get());
}

secret secret::with_size(std::size_t size)
{
    secret s;
    if (size > 0) {
        s.data_ = std::make_unique<char[]>(size);
        s.size_ = size;
    }
    return s;
}

secret secret::adopt(std::string&& text)
{
    secret s{std::string_view{text}};
    // Wipe the whole buffer the string owns, including its unused capacity.
    text.resize(text.capacity());
    secure_wipe(text.data(), text.size());
    text.clear();
    return s;
}

secret::secret(secret&& other) noexcept
    : data_{std::move(other.data_)}, size_{std::exchange(other.size_, 0)}
{}

secret& secret::operator=(secret&& other) noexcept
{
    if (this != &other) {
        wipe();
        data_ = std::move(other.data_);
        size_ = std::exchange(other.size_, 0);
    }
    return *this;
}

secret::~secret()
{
    wipe();
}

void secret::wipe() noexcept
{
    if (data_ != nullptr) {
        secure_wipe(data_.get(), size_);
    }
    data_.reset();
    size_ = 0;
}

} // namespace certfleet::core
