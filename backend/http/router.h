#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QPointer>
#include <QStringView>
#include <QUrlQuery>
#include <QVarLengthArray>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "../auth/scopes.h"
#include "response.h"

class QHttpServerRequest;
class QThreadPool;

namespace Outpost::Store {
class Database;
}

namespace Outpost::Http {

class Connection;

enum class Method : quint8 { Get, Head, Post, Put, Patch, Delete, Options };
QByteArray methodName(Method method);

// Who sent a request, as the gate (Router::setGate) established it before the handler runs.
struct Caller
{
    // An app user is a record of an auth collection; the rules of each collection say what it may do.
    enum class Kind : quint8 { Guest, Superuser, ApiKey, User };
    Kind kind = Kind::Guest;
    QString id; // the superuser's, the key's or the user's id
    QString collection; // a user's auth collection (its name)
    QString sessionId; // the session of a superuser's or user's token (Auth::Sessions)
    QJsonObject record; // a superuser's or user's record, as @request.auth sees it
    Auth::Scopes scopes; // an API key's scopes (also when it presents a token issued to it)
    Auth::Role role = Auth::Role::Viewer; // a superuser's role
    bool sentToken = false; // an Authorization header was present (even one that did not verify)

    // "superuser:ID", "apikey:ID", "user:COLLECTION:ID" or "guest", for audit entries.
    QString label() const;
};

// What a route demands of its caller; every route declares one (Router::add).
//   open()          anyone; the handler decides (health, login)
//   rules(p)        records routes: guests and users under the collection's rules, superusers
//                   whose role grants `p`; an API key needs `p` for the route's collection (the
//                   gate checks that it has `p` for some collection, the handler the one named)
//   needs(p)        superusers whose role grants `p` (Auth::roleGrants), and API keys whose
//                   scopes grant it; guests get 401
struct Policy
{
    enum class Kind : quint8 { Open, Rules, Permission };
    Kind kind = Kind::Open;
    Auth::Permission permission = Auth::Permission::RecordsRead;
    // needs() routes only: anyone connecting from a loopback address (directly, not through a
    // proxy) passes too, as a Prometheus on the same machine would scrape (`metrics_open_on_loopback`).
    bool openOnLoopback = false;

    static Policy open() { return {}; }
    static Policy rules(Auth::Permission p) { return {Kind::Rules, p}; }
    static Policy needs(Auth::Permission p) { return {Kind::Permission, p}; }
    Policy orLoopback(bool open) const
    {
        Policy p = *this;
        p.openOnLoopback = open;
        return p;
    }
};

// One request as a handler sees it. Owns copies of everything, so a handler may move it to a
// worker thread. `reader` is the network thread's own read connection: use it only on that thread,
// during the synchronous part of the handler.
struct Request
{
    Method method = Method::Get;
    QByteArray path; // percent-encoded, as sent
    QUrlQuery query;
    QList<QPair<QByteArray, QByteArray>> headers;
    QByteArray body;
    QHostAddress peer; // the TCP peer
    // The client: the peer, or what X-Forwarded-For says when the peer is a trusted proxy
    // (clientAddress()). Set by the engine before the gate runs.
    QHostAddress client;
    QList<QString> params; // the route's {placeholders}, percent-decoded, in order
    Store::Database *reader = nullptr;
    Caller caller;

    QByteArray header(QByteArrayView name) const; // first value, case-insensitive name
};

struct Exchange;
class BodyChannel;

// The producer's end of a streamed response body (Responder::stream()). Use it on the worker
// thread that runs the producer.
class BodyWriter
{
public:
    explicit BodyWriter(std::shared_ptr<BodyChannel> channel);

    // Hands `piece` to the connection; empty pieces are ignored. Blocks while the client is behind
    // (see BodyChannel). Returns false when the stream is cancelled (the client left or stopped
    // reading, the server is stopping, or the request was HEAD): drop the piece, stop producing
    // and return from the producer, releasing what it holds.
    bool write(QByteArray piece);
    bool isCancelled() const;

private:
    std::shared_ptr<BodyChannel> m_channel;
};

// Writes a streamed body, on a worker thread. An error it returns before its first write() becomes
// the response (Response::fromError); after it, the response is cut short (no last chunk, the
// connection closes) so that the client sees it incomplete (RFC 9112 §7.1).
using BodyProducer = std::function<Status(BodyWriter &)>;

// Answers one request exactly once. Copyable: a copy can travel to a worker thread, and post()
// from there; the answer is dropped if the client has gone by the time it is ready.
class Responder
{
public:
    Responder() = default;
    Responder(Connection *connection, std::shared_ptr<Exchange> exchange);

    // Network thread only.
    void send(Response response) const;
    // Any thread: queues send() on the connection's thread.
    void post(Response response) const;
    // Runs `work` on `pool` (never on the network thread) and sends what it returns.
    void runBlocking(QThreadPool *pool, std::function<Response()> work) const;
    // Network thread. Answers with `head`'s status, content type and headers (its body is ignored)
    // and a body that `produce` writes piece by piece on a thread of `pool`, sent with chunked
    // transfer coding (to HTTP/1.0 clients: delimited by the close). The connection reads no other
    // request until the stream ends, so pipelined requests are answered in order. The thread is
    // held for the whole stream: give streams a pool of their own, sized to how many may run at
    // once; when it has no free thread, answers 503 with Retry-After instead. For HEAD, `produce`
    // runs up to its first write (so that the status is the one GET would get); no body is sent.
    void stream(QThreadPool *pool, Response head, BodyProducer produce) const;

private:
    // Books the time this thread spent in the store since it was last booked (Store::threadStoreNs)
    // to the request.
    void addStoreTime() const;
    // send() without booking (network thread).
    void deliver(Response response) const;

    QPointer<Connection> m_connection;
    std::shared_ptr<Exchange> m_exchange;
};

using Handler = std::function<void(const Request &, const Responder &)>;

// One answered request, as the engine reports it.
struct ResponseRecord
{
    int route = -1; // index into Router::routes() (Router::Match::route); -1: no path matched
    Method method = Method::Get;
    int status = 200;
    qint64 durationNs = 0; // from dispatch to the response written
    qint64 bytesIn = 0; // request head and body
    qint64 bytesOut = 0; // response head and body as written
    qint64 storeNs = -1; // time spent waiting for and in the store; < 0: none
    Caller::Kind callerKind = Caller::Kind::Guest; // as the gate established it
    // The values below are the exchange's own, shared: copying them costs no allocation.
    QString callerId;
    QString callerCollection; // a user's auth collection
    QByteArray pattern; // the matched route pattern, or "(unmatched)"
    QByteArray path; // percent-encoded as sent, without the query string
    QHostAddress client; // Request::client
    QByteArray requestId; // as sent in X-Request-Id
    qint64 startMs = 0; // Unix ms (wall clock) when the request was dispatched
};

// Called once per answered request, on the network thread, after the response is written.
using ResponseObserver = std::function<void(const ResponseRecord &record)>;

// A path's segments as QByteArray::split('/') gives them, as views into `path`: no allocation for
// up to 16 segments. For matching a request against route patterns on the network threads.
using PathSegments = QVarLengthArray<QByteArrayView, 16>;
PathSegments pathSegments(QByteArrayView path);

// The route table, built before the server starts and read-only after: safe to share between
// network threads. Patterns are paths with `{name}` segments, e.g. "/api/collections/{c}/records".
class Router
{
public:
    void add(Method method, const QByteArray &pattern, Policy policy, Handler handler);

    struct Match
    {
        const Handler *handler = nullptr;
        const Policy *policy = nullptr;
        QByteArray pattern;
        QList<QString> params;
        QByteArray allow; // when the path exists with other methods: the Allow header value
        // The matched route's index in routes(); with `allow`, that of the first route of the path.
        int route = -1;
    };
    // HEAD is served by a GET route.
    Match match(Method method, QByteArrayView path) const;

    // Runs before every matched handler: identifies the caller (sets request.caller) and applies
    // the route's policy. Returns the answer when the request must stop there. Without a gate
    // every caller is a guest, and routes that need a permission answer 401.
    using Gate = std::function<std::optional<Response>(Request &request, const Policy &policy)>;
    void setGate(Gate gate) { m_gate = std::move(gate); }
    std::optional<Response> admit(Request &request, const Policy &policy) const;

    struct RouteInfo
    {
        Method method;
        QByteArray pattern;
        Policy policy;
    };
    QList<RouteInfo> routes() const; // every route, in registration order

private:
    struct Route
    {
        Method method;
        QByteArray pattern;
        QList<QByteArray> segments;
        Policy policy;
        Handler handler;
    };
    std::vector<Route> m_routes;
    Gate m_gate;
};

} // namespace Outpost::Http
