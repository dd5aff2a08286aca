#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QPointer>
#include <QUrlQuery>
#include <functional>
#include <memory>
#include <vector>

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
    QHostAddress peer;
    QList<QString> params; // the route's {placeholders}, percent-decoded, in order
    Store::Database *reader = nullptr;

    QByteArray header(QByteArrayView name) const; // first value, case-insensitive name
};

struct Exchange;

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

private:
    QPointer<Connection> m_connection;
    std::shared_ptr<Exchange> m_exchange;
};

using Handler = std::function<void(const Request &, const Responder &)>;

// Called once per answered request, on the network thread, after the response is written.
using ResponseObserver = std::function<void(const QByteArray &route, Method method, int status, qint64 micros)>;

// The route table, built before the server starts and read-only after: safe to share between
// network threads. Patterns are paths with `{name}` segments, e.g. "/api/collections/{c}/records".
class Router
{
public:
    void add(Method method, const QByteArray &pattern, Handler handler);

    struct Match
    {
        const Handler *handler = nullptr;
        QByteArray pattern;
        QList<QString> params;
        QByteArray allow; // when the path exists with other methods: the Allow header value
    };
    // HEAD is served by a GET route.
    Match match(Method method, QByteArrayView path) const;

private:
    struct Route
    {
        Method method;
        QByteArray pattern;
        QList<QByteArray> segments;
        Handler handler;
    };
    std::vector<Route> m_routes;
};

} // namespace Outpost::Http
