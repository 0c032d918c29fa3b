#pragma once
// A challenge_board that follows the operator's one-time CNAMEs: the ACME client presents at
// `_acme-challenge.www.example.com`, and the value lands at the label that name is delegated
// to (`k3f9.acme.example.net`) on the board that serves our zone.

#include <functional>
#include <optional>
#include <string>

#include "core/challenge_board.hpp"

namespace certfleet::core {

class challenge_redirect final : public challenge_board
{
public:
    // Maps a challenge name to its delegated target; nullopt when the name is not managed.
    using resolver = std::function<std::optional<std::string>(std::string_view challenge_fqdn)>;

    challenge_redirect(challenge_board& target, resolver resolve)
        : target_(target), resolve_(std::move(resolve))
    {}

    [[nodiscard]] boost::system::error_code
    present(std::string_view fqdn, std::string_view value, std::chrono::seconds ttl) override;
    void cleanup(std::string_view fqdn, std::string_view value) override;

private:
    challenge_board& target_;
    resolver resolve_;
};

} // namespace certfleet::core
