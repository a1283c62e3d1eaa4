#include "tls/certificate_time.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <cstdio>
#include <ctime>
#include <memory>

namespace edd::tls {
namespace {

constexpr std::int64_t kDaySeconds = 86400;

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil):
// timegm() reads the TZ environment on some libcs; this reads nothing.
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  const std::int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

}  // namespace

std::optional<std::int64_t> asn1_time_to_unix(const ASN1_TIME* time) {
  if (time == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  const std::int64_t days =
      days_from_civil(std::int64_t{tm.tm_year} + 1900, static_cast<unsigned>(tm.tm_mon + 1),
                      static_cast<unsigned>(tm.tm_mday));
  return days * kDaySeconds + std::int64_t{tm.tm_hour} * 3600 + std::int64_t{tm.tm_min} * 60 +
         tm.tm_sec;
}

std::optional<std::int64_t> pem_certificate_not_after(std::string_view pem) {
  if (pem.empty()) return std::nullopt;
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  if (!bio) return std::nullopt;
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) return std::nullopt;
  return asn1_time_to_unix(X509_get0_notAfter(cert.get()));
}

std::int64_t days_left(std::int64_t not_after_unix, std::int64_t now_unix) {
  return floor_div(not_after_unix - now_unix, kDaySeconds);
}

std::string format_days_left(std::int64_t not_after_unix, std::int64_t now_unix) {
  const std::int64_t days = days_left(not_after_unix, now_unix);
  if (days >= 0) return std::to_string(days) + (days == 1 ? " day left" : " days left");
  const std::int64_t ago = floor_div(now_unix - not_after_unix, kDaySeconds);
  if (ago == 0) return "EXPIRED today";
  return "EXPIRED " + std::to_string(ago) + (ago == 1 ? " day ago" : " days ago");
}

std::string format_utc(std::int64_t unix_seconds) {
  const std::int64_t days = floor_div(unix_seconds, kDaySeconds);
  const std::int64_t secs = unix_seconds - days * kDaySeconds;
  // civil_from_days (the inverse of days_from_civil).
  const std::int64_t z = days + 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  const std::int64_t y = static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0);
  std::array<char, 48> buf{};
  std::snprintf(buf.data(), buf.size(), "%04lld-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<long long>(y), m, d, static_cast<long long>(secs / 3600),
                static_cast<long long>(secs / 60 % 60), static_cast<long long>(secs % 60));
  return buf.data();
}

}  // namespace edd::tls
