// The pure half of the certificate-expiry check: ASN.1 times, a PEM's notAfter, days left.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <catch2/catch.hpp>
#include <memory>
#include <string>

#include "tls/certificate_time.h"

using namespace edd::tls;

namespace {

std::optional<std::int64_t> unix_of(const char* asn1) {
  std::unique_ptr<ASN1_TIME, decltype(&ASN1_TIME_free)> t(ASN1_TIME_new(), &ASN1_TIME_free);
  if (ASN1_TIME_set_string(t.get(), asn1) != 1) return std::nullopt;
  return asn1_time_to_unix(t.get());
}

// A self-signed certificate (EC P-256) valid until not_after (GeneralizedTime), as PEM.
std::string self_signed_pem(const char* not_after) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 7);
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), 0);
  ASN1_TIME_set_string(X509_getm_notAfter(cert.get()), not_after);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("edd-unit"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  PEM_write_bio_X509(bio.get(), cert.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

}  // namespace

TEST_CASE("an ASN.1 GeneralizedTime becomes unix seconds") {
  CHECK(unix_of("20261223161000Z") == 1798042200);
  CHECK(unix_of("21000228120000Z") == 4107499200);  // 2100 is not a leap year
  CHECK(unix_of("19700101000000Z") == 0);
}

TEST_CASE("an ASN.1 UTCTime becomes unix seconds, years 50-99 in the 1900s") {
  CHECK(unix_of("491231235959Z") == 2524607999);
  CHECK(unix_of("500101000000Z") == -631152000);
}

TEST_CASE("no time or a malformed one is no expiry") {
  CHECK_FALSE(asn1_time_to_unix(nullptr));
  CHECK_FALSE(unix_of("2026-12-23"));
}

TEST_CASE("the notAfter of a PEM certificate is read, and text that is none gives nothing") {
  CHECK(pem_certificate_not_after(self_signed_pem("20261223161000Z")) == 1798042200);
  // A chain: the first certificate (the leaf) counts.
  CHECK(pem_certificate_not_after(self_signed_pem("20261223161000Z") +
                                  self_signed_pem("20300101000000Z")) == 1798042200);
  CHECK_FALSE(pem_certificate_not_after(""));
  CHECK_FALSE(pem_certificate_not_after("-----BEGIN CERTIFICATE-----\nnot base64\n"));
  CHECK_FALSE(
      pem_certificate_not_after("-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE "
                                "KEY-----\n"));
}

TEST_CASE("days left are whole days rounded down, and an expired certificate is never 0 left") {
  constexpr std::int64_t kDay = 86400;
  const std::int64_t now = 1798042200;
  CHECK(days_left(now + 5 * kDay, now) == 5);
  CHECK(days_left(now + 5 * kDay - 60, now) == 4);
  CHECK(days_left(now + 1, now) == 0);
  CHECK(days_left(now, now) == 0);
  CHECK(days_left(now - 1, now) == -1);
  CHECK(days_left(now - 3 * kDay, now) == -3);
  CHECK(format_days_left(now + 20 * kDay - 30, now) == "19 days left");
  CHECK(format_days_left(now + kDay + 5, now) == "1 day left");
  CHECK(format_days_left(now + 3600, now) == "0 days left");
  CHECK(format_days_left(now - 3600, now) == "EXPIRED today");
  CHECK(format_days_left(now - kDay - 1, now) == "EXPIRED 1 day ago");
  CHECK(format_days_left(now - 2 * kDay - 1, now) == "EXPIRED 2 days ago");
}

TEST_CASE("unix seconds print as an RFC 3339 UTC time") {
  CHECK(format_utc(1798042200) == "2026-12-23T16:10:00Z");
  CHECK(format_utc(0) == "1970-01-01T00:00:00Z");
  CHECK(format_utc(4107499200) == "2100-02-28T12:00:00Z");
  CHECK(format_utc(-631152000) == "1950-01-01T00:00:00Z");
}
