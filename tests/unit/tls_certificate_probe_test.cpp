// The probe's TLS handshake against a real TLS server on loopback (Asio + OpenSSL, in this
// process) serving a certificate made here: valid, expired, or signed by another CA.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <catch2/catch.hpp>
#include <memory>
#include <thread>

#include "tls/certificate_probe.h"
#include "tls/certificate_time.h"

using namespace edd::tls;
namespace asio = boost::asio;

namespace {

struct Pem {
  std::string cert, key;
};

std::string to_pem(auto write) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), &BIO_free);
  write(bio.get());
  char* data = nullptr;
  const long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(n));
}

// A self-signed certificate for 127.0.0.1 valid from not_before to not_after (GeneralizedTime).
Pem self_signed(const char* not_before, const char* not_after) {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_EC_gen("P-256"), &EVP_PKEY_free);
  std::unique_ptr<X509, decltype(&X509_free)> cert(X509_new(), &X509_free);
  X509_set_version(cert.get(), 2);
  ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), 9);
  ASN1_TIME_set_string(X509_getm_notBefore(cert.get()), not_before);
  ASN1_TIME_set_string(X509_getm_notAfter(cert.get()), not_after);
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("127.0.0.1"), -1, -1, 0);
  X509_set_issuer_name(cert.get(), name);
  X509_set_pubkey(cert.get(), key.get());
  X509_sign(cert.get(), key.get(), EVP_sha256());
  return {to_pem([&](BIO* b) { PEM_write_bio_X509(b, cert.get()); }), to_pem([&](BIO* b) {
            PEM_write_bio_PrivateKey(b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
          })};
}

// Accepts one connection and handshakes as a TLS server (the outcome does not matter).
class OneShotServer {
 public:
  explicit OneShotServer(const Pem& pem)
      : ctx_(asio::ssl::context::tls_server),
        acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    ctx_.use_certificate_chain(asio::buffer(pem.cert));
    ctx_.use_private_key(asio::buffer(pem.key), asio::ssl::context::pem);
    thread_ = std::thread([this] {
      boost::system::error_code ec;
      asio::ssl::stream<asio::ip::tcp::socket> stream(io_, ctx_);
      acceptor_.accept(stream.lowest_layer(), ec);
      if (!ec) stream.handshake(asio::ssl::stream_base::server, ec);
    });
  }
  ~OneShotServer() { thread_.join(); }
  std::string endpoint() const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

 private:
  asio::io_context io_;
  asio::ssl::context ctx_;
  asio::ip::tcp::acceptor acceptor_;
  std::thread thread_;
};

ProbeSettings trusting(const std::string& ca_pem) {
  ProbeSettings s;
  s.ca_pem = ca_pem;
  s.timeout = std::chrono::seconds(5);
  return s;
}

}  // namespace

TEST_CASE("a handshake reads the serving certificate's notAfter") {
  const Pem pem = self_signed("20200101000000Z", "20991231235959Z");
  OneShotServer server(pem);
  const ServerCertificate r = probe_server_certificate(trusting(pem.cert), server.endpoint());
  CHECK(r.error.empty());
  CHECK(r.not_after_unix == pem_certificate_not_after(pem.cert));
}

TEST_CASE("an expired serving certificate fails verification and its notAfter is still read") {
  const Pem pem = self_signed("20200101000000Z", "20210101000000Z");
  OneShotServer server(pem);
  const ServerCertificate r = probe_server_certificate(trusting(pem.cert), server.endpoint());
  CHECK(r.error == "certificate verify failed: certificate has expired");
  CHECK(r.not_after_unix == 1609459200);  // 2021-01-01T00:00:00Z
}

TEST_CASE("a serving certificate from another CA fails verification, notAfter still read") {
  const Pem pem = self_signed("20200101000000Z", "20991231235959Z");
  const Pem other = self_signed("20200101000000Z", "20991231235959Z");
  OneShotServer server(pem);
  const ServerCertificate r = probe_server_certificate(trusting(other.cert), server.endpoint());
  CHECK_THAT(r.error, Catch::StartsWith("certificate verify failed: "));
  CHECK(r.not_after_unix == pem_certificate_not_after(pem.cert));
}
