#include "tls/certificate_time.h"

#include <openssl/bio.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>

namespace edd::tls {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using std::chrono::sys_days;
using std::chrono::sys_seconds;

std::int64_t floor_days(std::int64_t secs) {
  return std::chrono::floor<days>(seconds{secs}).count();
}

}  // namespace

// The calendar arithmetic is C++20's <chrono> (proleptic Gregorian, no time zone): timegm()
// reads the TZ environment on some libcs.
std::optional<std::int64_t> asn1_time_to_unix(const ASN1_TIME* time) {
  if (time == nullptr) return std::nullopt;
  std::tm tm{};
  if (ASN1_TIME_to_tm(time, &tm) != 1) return std::nullopt;
  const std::chrono::year_month_day date{std::chrono::year{tm.tm_year + 1900},
                                         std::chrono::month{static_cast<unsigned>(tm.tm_mon + 1)},
                                         std::chrono::day{static_cast<unsigned>(tm.tm_mday)}};
  const sys_seconds at = sys_days{date} + std::chrono::hours{tm.tm_hour} +
                         std::chrono::minutes{tm.tm_min} + seconds{tm.tm_sec};
  return at.time_since_epoch().count();
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
  return floor_days(not_after_unix - now_unix);
}

std::string format_days_left(std::int64_t not_after_unix, std::int64_t now_unix) {
  const std::int64_t days = days_left(not_after_unix, now_unix);
  if (days >= 0) return std::to_string(days) + (days == 1 ? " day left" : " days left");
  const std::int64_t ago = floor_days(now_unix - not_after_unix);
  if (ago == 0) return "EXPIRED today";
  return "EXPIRED " + std::to_string(ago) + (ago == 1 ? " day ago" : " days ago");
}

std::string format_utc(std::int64_t unix_seconds) {
  const sys_seconds at{seconds{unix_seconds}};
  const auto day = std::chrono::floor<days>(at);
  const std::chrono::year_month_day date{day};
  const std::chrono::hh_mm_ss time{at - day};
  std::array<char, 64> buf{};
  std::snprintf(buf.data(), buf.size(), "%04d-%02u-%02uT%02lld:%02lld:%02lldZ",
                static_cast<int>(date.year()), static_cast<unsigned>(date.month()),
                static_cast<unsigned>(date.day()), static_cast<long long>(time.hours().count()),
                static_cast<long long>(time.minutes().count()),
                static_cast<long long>(time.seconds().count()));
  return buf.data();
}

}  // namespace edd::tls
