#include "etcd/grpc_cluster_client.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/tls_certificate_provider.h>
#include <grpcpp/security/tls_certificate_verifier.h>
#include <grpcpp/security/tls_credentials_options.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fstream>
#include <sstream>

#include "etcd/endpoint.h"
#include "etcd/rpc_status.h"
#include "etcdserverpb/rpc.grpc.pb.h"

namespace edd::etcd {

namespace pb = etcdserverpb;
using std::chrono::milliseconds;

struct GrpcClusterClient::Connection {
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Maintenance::Stub> maintenance;
  std::unique_ptr<pb::Cluster::Stub> cluster;
  std::unique_ptr<pb::Auth::Stub> auth;
  std::unique_ptr<pb::Lease::Stub> lease;
};

namespace {

Result<std::string> read_file(const std::string& path, const char* flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(flag) + ": cannot read \"" + path + "\"");
  }
  std::ostringstream ss;
  ss << in.rdbuf();
  if (ss.str().empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(flag) + ": \"" + path + "\" is empty");
  }
  return ss.str();
}

// gRPC reports a bad client pair only as a failed handshake: check it before dialling, so the
// user gets one line naming the file.
Status check_client_pair(const std::string& cert_pem, const std::string& cert_path,
                         const std::string& key_pem, const std::string& key_path) {
  auto bio = [](const std::string& pem) {
    return std::unique_ptr<BIO, decltype(&BIO_free)>(
        BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  };
  auto cert_bio = bio(cert_pem);
  std::unique_ptr<X509, decltype(&X509_free)> cert(
      PEM_read_bio_X509(cert_bio.get(), nullptr, nullptr, nullptr), &X509_free);
  if (!cert) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--cert: \"" + cert_path + "\" is not a PEM certificate");
  }
  if (X509_cmp_current_time(X509_get0_notAfter(cert.get())) < 0) {
    return make_error(ErrorCode::kInvalidArgument, "--cert: \"" + cert_path + "\" has expired");
  }
  if (X509_cmp_current_time(X509_get0_notBefore(cert.get())) > 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--cert: \"" + cert_path + "\" is not valid yet");
  }
  auto key_bio = bio(key_pem);
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr), &EVP_PKEY_free);
  if (!key) {
    return make_error(ErrorCode::kInvalidArgument,
                      "--key: \"" + key_path + "\" is not a PEM private key (or is encrypted)");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    ERR_clear_error();
    return make_error(
        ErrorCode::kInvalidArgument,
        "--key: \"" + key_path + "\" does not match the certificate in \"" + cert_path + "\"");
  }
  return {};
}

// rpc_status.h takes gRPC's codes as numbers, to stay free of gRPC; they are the same numbers.
static_assert(static_cast<int>(RpcCode::kNotFound) == grpc::StatusCode::NOT_FOUND);
static_assert(static_cast<int>(RpcCode::kOutOfRange) == grpc::StatusCode::OUT_OF_RANGE);
static_assert(static_cast<int>(RpcCode::kUnauthenticated) == grpc::StatusCode::UNAUTHENTICATED);
static_assert(static_cast<int>(RpcCode::kResourceExhausted) ==
              grpc::StatusCode::RESOURCE_EXHAUSTED);

ErrorCode map_code(const grpc::Status& s) {
  return error_code_for(static_cast<RpcCode>(s.error_code()), s.error_message());
}

// A hint for the failures a newcomer meets first; gRPC's own text stays in the message.
std::string hint_for(const std::string& message) {
  if (message.find("CERTIFICATE_VERIFY_FAILED") != std::string::npos ||
      message.find("certificate verify failed") != std::string::npos) {
    return " (the server's certificate is not trusted: check --cacert)";
  }
  // Only a handshake error says TLS is wrong; "Socket closed" is also what a dying member says.
  if (message.find("WRONG_VERSION_NUMBER") != std::string::npos) {
    return " (TLS mismatch? use https:// endpoints or --cacert for a TLS server, http:// for a "
           "plain one)";
  }
  if (message.find("certificate required") != std::string::npos ||
      message.find("CERTIFICATE_REQUIRED") != std::string::npos) {
    return " (the server wants a client certificate: --cert and --key)";
  }
  if (message.find("user name is empty") != std::string::npos) {
    return " (auth is enabled: give --user)";
  }
  return "";
}

// gRPC says "failed to connect to all addresses; last error: UNKNOWN: ipv4:127.0.0.1:1: Failed
// to connect to remote host: Connection refused"; keep the part an operator acts on.
std::string tidy(const std::string& message) {
  constexpr std::string_view kPrefix = "failed to connect to all addresses; last error: ";
  if (!message.starts_with(kPrefix)) return message;
  std::string rest = message.substr(kPrefix.size());
  for (std::string_view family : {"ipv4:", "ipv6:"}) {
    if (auto at = rest.find(family); at != std::string::npos) {
      if (auto sep = rest.find(": ", at); sep != std::string::npos) {
        rest = rest.substr(sep + 2);
      }
    }
  }
  return "cannot connect: " + rest;
}

Error to_error(const std::string& endpoint, const char* what, const grpc::Status& s) {
  return make_error(map_code(s), endpoint + ": " + what + ": " + tidy(s.error_message()) +
                                     hint_for(s.error_message()));
}

bool token_expired(const grpc::Status& s) { return map_code(s) == ErrorCode::kAuthTokenInvalid; }

AlarmType from_pb(pb::AlarmType t) {
  switch (t) {
    case pb::NONE:
      return AlarmType::kNone;
    case pb::NOSPACE:
      return AlarmType::kNoSpace;
    case pb::CORRUPT:
      return AlarmType::kCorrupt;
    default:
      return AlarmType::kUnknown;
  }
}

std::chrono::system_clock::time_point deadline_after(milliseconds d) {
  return std::chrono::system_clock::now() + d;
}

}  // namespace

GrpcClusterClient::GrpcClusterClient(ClientOptions options, Pem pem)
    : options_(std::move(options)), pem_(std::move(pem)) {}

GrpcClusterClient::~GrpcClusterClient() = default;

Result<std::unique_ptr<GrpcClusterClient>> GrpcClusterClient::create(ClientOptions options) {
  Pem pem;
  if (!options.ca_file.empty()) {
    auto r = read_file(options.ca_file, "--cacert");
    if (!r) return r.error();
    pem.ca = std::move(*r);
  }
  if (options.cert_file.empty() != options.key_file.empty()) {
    return make_error(ErrorCode::kInvalidArgument, "--cert and --key must be given together");
  }
  if (!options.cert_file.empty()) {
    auto c = read_file(options.cert_file, "--cert");
    if (!c) return c.error();
    auto k = read_file(options.key_file, "--key");
    if (!k) return k.error();
    if (auto v = check_client_pair(*c, options.cert_file, *k, options.key_file); !v) {
      return v.error();
    }
    pem.cert = std::move(*c);
    pem.key = std::move(*k);
  }
  for (const auto& e : options.endpoints) {
    auto parsed = parse_endpoint(e);
    if (!parsed) return parsed.error();
  }
  return std::unique_ptr<GrpcClusterClient>(
      new GrpcClusterClient(std::move(options), std::move(pem)));
}

Result<std::shared_ptr<GrpcClusterClient::Connection>> GrpcClusterClient::connection(
    const std::string& endpoint) {
  std::lock_guard lock(mu_);
  if (auto it = connections_.find(endpoint); it != connections_.end()) return it->second;

  auto ep = parse_endpoint(endpoint);
  if (!ep) return ep.error();
  const bool tls =
      ep->scheme == Scheme::kHttps ||
      (ep->scheme == Scheme::kNone && (options_.has_tls_files() || !options_.insecure_transport));

  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (!tls) {
    creds = grpc::InsecureChannelCredentials();
  } else if (options_.insecure_skip_tls_verify) {
    std::vector<grpc::experimental::IdentityKeyCertPair> pairs;
    if (!pem_.cert.empty()) pairs.push_back({pem_.key, pem_.cert});
    auto provider =
        pem_.ca.empty() && pairs.empty()
            ? nullptr
            : std::make_shared<grpc::experimental::StaticDataCertificateProvider>(pem_.ca, pairs);
    grpc::experimental::TlsChannelCredentialsOptions tls_options;
    if (provider) {
      tls_options.set_certificate_provider(provider);
      if (!pem_.ca.empty()) tls_options.watch_root_certs();
      if (!pairs.empty()) tls_options.watch_identity_key_cert_pairs();
    }
    tls_options.set_verify_server_certs(false);
    tls_options.set_check_call_host(false);
    tls_options.set_certificate_verifier(
        std::make_shared<grpc::experimental::NoOpCertificateVerifier>());
    creds = grpc::experimental::TlsCredentials(tls_options);
  } else {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = pem_.ca;
    ssl.pem_cert_chain = pem_.cert;
    ssl.pem_private_key = pem_.key;
    creds = grpc::SslCredentials(ssl);
  }

  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(options_.keepalive_time.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(options_.keepalive_timeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetMaxReceiveMessageSize(-1);
  // One channel per member: never let gRPC balance our calls to another member.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto conn = std::make_shared<Connection>();
  conn->channel = grpc::CreateCustomChannel(ep->grpc_target(), creds, args);
  conn->kv = pb::KV::NewStub(conn->channel);
  conn->maintenance = pb::Maintenance::NewStub(conn->channel);
  conn->cluster = pb::Cluster::NewStub(conn->channel);
  conn->auth = pb::Auth::NewStub(conn->channel);
  conn->lease = pb::Lease::NewStub(conn->channel);
  connections_.emplace(endpoint, conn);
  return conn;
}

std::string GrpcClusterClient::token() const {
  std::lock_guard lock(mu_);
  return token_;
}

// Waits up to --dial-timeout for the channel to connect. A channel in TRANSIENT_FAILURE is left to
// the call itself, which then fails at once with gRPC's reason (refused, TLS, ...).
static Status wait_connected(grpc::Channel& channel, const std::string& endpoint,
                             milliseconds dial_timeout) {
  const auto deadline = deadline_after(dial_timeout);
  auto state = channel.GetState(true);
  while (state != GRPC_CHANNEL_READY && state != GRPC_CHANNEL_TRANSIENT_FAILURE) {
    if (!channel.WaitForStateChange(state, deadline)) {
      return make_error(ErrorCode::kDeadlineExceeded,
                        endpoint + ": no connection within --dial-timeout (" +
                            std::to_string(dial_timeout.count()) + "ms)");
    }
    state = channel.GetState(true);
  }
  return {};
}

Status GrpcClusterClient::authenticate(Connection& conn, const std::string& endpoint) {
  pb::AuthenticateRequest req;
  req.set_name(options_.user);
  req.set_password(options_.password);
  pb::AuthenticateResponse resp;
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline_after(options_.command_timeout));
  const grpc::Status s = conn.auth->Authenticate(&ctx, req, &resp);
  if (!s.ok()) {
    // Never echo the password; name the user so the operator knows which one failed.
    return make_error(map_code(s), endpoint + ": authenticate as user \"" + options_.user +
                                       "\": " + s.error_message());
  }
  std::lock_guard lock(mu_);
  token_ = resp.token();
  return {};
}

template <class Call>
Status GrpcClusterClient::invoke(const std::string& endpoint, const char* what,
                                 milliseconds timeout, Call&& call) {
  auto conn = connection(endpoint);
  if (!conn) return conn.error();
  Connection& c = **conn;
  if (auto w = wait_connected(*c.channel, endpoint, options_.dial_timeout); !w) return w;
  if (!options_.user.empty() && token().empty()) {
    if (auto a = authenticate(c, endpoint); !a) return a;
  }
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext ctx;
    ctx.set_deadline(deadline_after(timeout));
    if (const std::string t = token(); !t.empty()) ctx.AddMetadata("token", t);
    const grpc::Status s = call(c, ctx);
    if (s.ok()) return {};
    if (attempt == 0 && !options_.user.empty() && token_expired(s)) {
      if (auto a = authenticate(c, endpoint); !a) return a;
      continue;
    }
    return to_error(endpoint, what, s);
  }
  return make_error(ErrorCode::kUnauthenticated, endpoint + ": " + what + ": token rejected");
}

Result<std::vector<Member>> GrpcClusterClient::member_list(const std::string& endpoint) {
  pb::MemberListResponse resp;
  auto s = invoke(endpoint, "member list", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::MemberListRequest req;
                    req.set_linearizable(true);
                    return c.cluster->MemberList(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  std::vector<Member> out;
  for (const auto& m : resp.members()) {
    Member member;
    member.id = m.id();
    member.name = m.name();
    member.peer_urls.assign(m.peerurls().begin(), m.peerurls().end());
    member.client_urls.assign(m.clienturls().begin(), m.clienturls().end());
    member.is_learner = m.islearner();
    out.push_back(std::move(member));
  }
  return out;
}

Result<MemberStatus> GrpcClusterClient::status(const std::string& endpoint) {
  pb::StatusResponse resp;
  auto s = invoke(endpoint, "status", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    return c.maintenance->Status(&ctx, pb::StatusRequest{}, &resp);
                  });
  if (!s) return s.error();
  MemberStatus st;
  st.endpoint = endpoint;
  st.cluster_id = resp.header().cluster_id();
  st.member_id = resp.header().member_id();
  st.revision = resp.header().revision();
  st.leader_id = resp.leader();
  st.version = resp.version();
  st.db_size = resp.dbsize();
  st.db_size_in_use = resp.dbsizeinuse();
  st.db_size_quota = resp.dbsizequota();
  st.storage_version = resp.storageversion();
  st.downgrade_enabled = resp.downgradeinfo().enabled();
  st.downgrade_target_version = resp.downgradeinfo().targetversion();
  st.raft_term = resp.raftterm();
  st.raft_index = resp.raftindex();
  st.raft_applied_index = resp.raftappliedindex();
  st.is_learner = resp.islearner();
  st.errors.assign(resp.errors().begin(), resp.errors().end());
  return st;
}

Status GrpcClusterClient::health(const std::string& endpoint) {
  pb::RangeResponse resp;
  auto s = invoke(endpoint, "health check", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::RangeRequest req;
                    req.set_key("health");
                    req.set_limit(1);
                    req.set_count_only(true);
                    return c.kv->Range(&ctx, req, &resp);
                  });
  if (!s && s.error().code == ErrorCode::kPermissionDenied) return {};
  return s;
}

Result<std::vector<Alarm>> GrpcClusterClient::alarms(const std::string& endpoint) {
  pb::AlarmResponse resp;
  auto s = invoke(endpoint, "alarm list", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::AlarmRequest req;
                    req.set_action(pb::AlarmRequest::GET);
                    return c.maintenance->Alarm(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  std::vector<Alarm> out;
  for (const auto& a : resp.alarms()) out.push_back({a.memberid(), from_pb(a.alarm())});
  return out;
}

Status GrpcClusterClient::disarm(const std::string& endpoint, const Alarm& alarm) {
  if (alarm.member_id == 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "refusing to disarm with member ID 0: etcd would clear every member's alarm");
  }
  pb::AlarmType type = pb::NONE;
  if (alarm.type == AlarmType::kNoSpace) type = pb::NOSPACE;
  if (alarm.type == AlarmType::kCorrupt) type = pb::CORRUPT;
  pb::AlarmResponse resp;
  return invoke(endpoint, "alarm disarm", options_.command_timeout,
                [&](Connection& c, grpc::ClientContext& ctx) {
                  pb::AlarmRequest req;
                  req.set_action(pb::AlarmRequest::DEACTIVATE);
                  req.set_memberid(alarm.member_id);
                  req.set_alarm(type);
                  return c.maintenance->Alarm(&ctx, req, &resp);
                });
}

Status GrpcClusterClient::compact(const std::string& endpoint, std::int64_t revision,
                                  bool physical) {
  pb::CompactionResponse resp;
  // A physical compaction waits for the local backend to finish; give it the defrag-sized
  // patience of the command timeout at least.
  auto s = invoke(endpoint, "compact", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::CompactionRequest req;
                    req.set_revision(revision);
                    req.set_physical(physical);
                    return c.kv->Compact(&ctx, req, &resp);
                  });
  if (!s && s.error().code == ErrorCode::kCompacted) return {};
  return s;
}

Status GrpcClusterClient::defragment(const std::string& endpoint, milliseconds timeout) {
  pb::DefragmentResponse resp;
  return invoke(endpoint, "defragment", timeout, [&](Connection& c, grpc::ClientContext& ctx) {
    return c.maintenance->Defragment(&ctx, pb::DefragmentRequest{}, &resp);
  });
}

Status GrpcClusterClient::move_leader(const std::string& leader_endpoint, std::uint64_t target_id) {
  pb::MoveLeaderResponse resp;
  return invoke(leader_endpoint, "move leader", options_.command_timeout,
                [&](Connection& c, grpc::ClientContext& ctx) {
                  pb::MoveLeaderRequest req;
                  req.set_targetid(target_id);
                  return c.maintenance->MoveLeader(&ctx, req, &resp);
                });
}

Result<HashKv> GrpcClusterClient::hash_kv(const std::string& endpoint, std::int64_t revision) {
  pb::HashKVResponse resp;
  auto s = invoke(endpoint, "hashkv", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::HashKVRequest req;
                    req.set_revision(revision);
                    return c.maintenance->HashKV(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  return HashKv{resp.hash(), resp.compact_revision(), resp.header().revision()};
}

namespace {

KeyValue from_pb(const mvccpb::KeyValue& kv) {
  return {kv.key(), kv.value(), kv.create_revision(), kv.mod_revision(), kv.lease()};
}

}  // namespace

Result<std::int64_t> GrpcClusterClient::lease_grant(const std::string& endpoint,
                                                    std::chrono::seconds ttl) {
  pb::LeaseGrantResponse resp;
  auto s = invoke(endpoint, "lease grant", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::LeaseGrantRequest req;
                    req.set_ttl(ttl.count());
                    return c.lease->LeaseGrant(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  if (!resp.error().empty()) {
    return make_error(ErrorCode::kFailedPrecondition, endpoint + ": lease grant: " + resp.error());
  }
  return resp.id();
}

Result<std::int64_t> GrpcClusterClient::lease_keep_alive(const std::string& endpoint,
                                                         std::int64_t lease_id) {
  pb::LeaseKeepAliveResponse resp;
  bool answered = false;
  // One short-lived stream per keep-alive: simple, and nothing stays open on a member that is
  // about to be defragmented.
  auto s = invoke(endpoint, "lease keep-alive", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    auto stream = c.lease->LeaseKeepAlive(&ctx);
                    pb::LeaseKeepAliveRequest req;
                    req.set_id(lease_id);
                    if (stream->Write(req)) answered = stream->Read(&resp);
                    stream->WritesDone();
                    return stream->Finish();
                  });
  if (!s) return s.error();
  if (!answered) {
    return make_error(ErrorCode::kUnavailable, endpoint + ": lease keep-alive: no answer");
  }
  return resp.ttl() > 0 ? resp.ttl() : 0;
}

Status GrpcClusterClient::lease_revoke(const std::string& endpoint, std::int64_t lease_id) {
  pb::LeaseRevokeResponse resp;
  return invoke(endpoint, "lease revoke", options_.command_timeout,
                [&](Connection& c, grpc::ClientContext& ctx) {
                  pb::LeaseRevokeRequest req;
                  req.set_id(lease_id);
                  return c.lease->LeaseRevoke(&ctx, req, &resp);
                });
}

Result<std::int64_t> GrpcClusterClient::create_key(const std::string& endpoint,
                                                   const std::string& key, const std::string& value,
                                                   std::int64_t lease_id) {
  pb::TxnResponse resp;
  auto s = invoke(endpoint, "create key", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::TxnRequest req;
                    auto* cmp = req.add_compare();
                    cmp->set_key(key);
                    cmp->set_target(pb::Compare::CREATE);
                    cmp->set_result(pb::Compare::EQUAL);
                    cmp->set_create_revision(0);
                    auto* put = req.add_success()->mutable_request_put();
                    put->set_key(key);
                    put->set_value(value);
                    put->set_lease(lease_id);
                    req.add_failure()->mutable_request_range()->set_key(key);
                    return c.kv->Txn(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  if (resp.succeeded()) return resp.header().revision();
  if (resp.responses_size() > 0 && resp.responses(0).response_range().kvs_size() > 0) {
    return resp.responses(0).response_range().kvs(0).create_revision();
  }
  return make_error(ErrorCode::kInternal, endpoint + ": create key: unexpected Txn answer");
}

Result<std::vector<KeyValue>> GrpcClusterClient::list_prefix(const std::string& endpoint,
                                                             const std::string& prefix,
                                                             std::int64_t limit) {
  pb::RangeResponse resp;
  auto s = invoke(endpoint, "list keys", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::RangeRequest req;
                    req.set_key(prefix);
                    req.set_range_end(prefix_range_end(prefix));
                    req.set_sort_target(pb::RangeRequest::CREATE);
                    req.set_sort_order(pb::RangeRequest::ASCEND);
                    req.set_limit(limit);
                    return c.kv->Range(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  std::vector<KeyValue> out;
  for (const auto& kv : resp.kvs()) out.push_back(from_pb(kv));
  return out;
}

Status GrpcClusterClient::put(const std::string& endpoint, const std::string& key,
                              const std::string& value) {
  return put_leased(endpoint, key, value, 0);  // lease 0: a key bound to no lease
}

Status GrpcClusterClient::put_leased(const std::string& endpoint, const std::string& key,
                                     const std::string& value, std::int64_t lease_id) {
  pb::PutResponse resp;
  return invoke(endpoint, "put", options_.command_timeout,
                [&](Connection& c, grpc::ClientContext& ctx) {
                  pb::PutRequest req;
                  req.set_key(key);
                  req.set_value(value);
                  req.set_lease(lease_id);
                  return c.kv->Put(&ctx, req, &resp);
                });
}

Result<std::optional<KeyValue>> GrpcClusterClient::get(const std::string& endpoint,
                                                       const std::string& key) {
  pb::RangeResponse resp;
  auto s = invoke(endpoint, "get", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::RangeRequest req;
                    req.set_key(key);
                    return c.kv->Range(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  if (resp.kvs_size() == 0) return std::optional<KeyValue>{};
  return std::optional<KeyValue>{from_pb(resp.kvs(0))};
}

Result<ScanPage> GrpcClusterClient::range_page(const std::string& endpoint,
                                               const PageRequest& request) {
  pb::RangeResponse resp;
  auto s = invoke(endpoint, "range", options_.command_timeout,
                  [&](Connection& c, grpc::ClientContext& ctx) {
                    pb::RangeRequest req;
                    req.set_key(request.key);
                    req.set_range_end(request.range_end);
                    req.set_limit(request.limit);
                    req.set_revision(request.revision);
                    // The member's own copy: no round to the leader, as etcdctl
                    // --consistency=s. Values are needed for their sizes (etcd has no
                    // "sizes only" range), so keys_only stays false.
                    req.set_serializable(true);
                    return c.kv->Range(&ctx, req, &resp);
                  });
  if (!s) return s.error();
  ScanPage page;
  page.more = resp.more();
  page.revision = resp.header().revision();
  page.keys.reserve(static_cast<std::size_t>(resp.kvs_size()));
  for (const auto& kv : resp.kvs()) {
    page.keys.push_back({kv.key(), static_cast<std::int64_t>(kv.value().size()), kv.version()});
  }
  return page;
}

}  // namespace edd::etcd
