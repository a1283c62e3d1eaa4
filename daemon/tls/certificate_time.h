// When a certificate stops being valid, as unix seconds, and how to say it to a person: the pure
// half of the certificate-expiry check (no files, no network). Thread-safe: free functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <openssl/asn1.h>

namespace edd::tls {

// An ASN.1 UTCTime or GeneralizedTime (a certificate's notAfter) as unix seconds; empty when it
// is not a valid time.
std::optional<std::int64_t> asn1_time_to_unix(const ASN1_TIME* time);

// The notAfter of the first certificate of a PEM text (a chain's leaf); empty when there is none.
std::optional<std::int64_t> pem_certificate_not_after(std::string_view pem);

// Whole days from now until not_after, rounded down: 4 for 4 days and 23 hours, -1 for an hour
// ago (an expired certificate is never "0 days left").
std::int64_t days_left(std::int64_t not_after_unix, std::int64_t now_unix);

// "19 days left", "1 day left", "0 days left" (expires within 24 h), "EXPIRED 2 days ago",
// "EXPIRED today".
std::string format_days_left(std::int64_t not_after_unix, std::int64_t now_unix);

// "2026-12-23T16:10:00Z".
std::string format_utc(std::int64_t unix_seconds);

}  // namespace edd::tls
