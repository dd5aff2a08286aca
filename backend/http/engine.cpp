#include "engine.h"

#include <QDateTime>
#include <QHttpServerRequest>
#include <QLoggingCategory>

#include "../store/sqlite.h"
#include "clientaddress.h"
#include "connection.h"
#include "exchange.h"
#include "guardconfig.h"
#include "requestid.h"

Q_LOGGING_CATEGORY(lcHttp, "outpost.http")

namespace Outpost::Http {

namespace {

Method toMethod(QByteArrayView name)
{
    if (name == "GET")
        return Method::Get;
    if (name == "HEAD")
        return Method::Head;
    if (name == "POST")
        return Method::Post;
    if (name == "PUT")
        return Method::Put;
    if (name == "PATCH")
        return Method::Patch;
    if (name == "DELETE")
        return Method::Delete;
    return Method::Options; // the guard lets no other method through
}

QByteArrayView pathOf(QByteArrayView target)
{
    if (target.startsWith("http://") || target.startsWith("https://")) {
        const qsizetype slash = target.indexOf('/', target.indexOf("//") + 2);
        target = slash < 0 ? QByteArrayView("/") : target.sliced(slash);
    }
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.first(q);
}

} // namespace

void Exchange::finish(Connection &connection, Response response)
{
    response.headers.append(headers);
    response.headers.append({QByteArrayLiteral("X-Request-Id"), requestId});
    const bool keepAlive = (response.status < 500 || response.status == 503) && !connection.willClose();
    const QByteArray bytes = response.serialize(method == Method::Head, keepAlive, httpDate(),
                                                headerLines.isEmpty() ? connection.guard().fixedHeaders : headerLines);
    bytesOut += bytes.size();
    connection.respond(bytes, keepAlive);
    observe(response.status);
}

void Exchange::release()
{
    if (headSent)
        observe(streamHead.status);
}

void Exchange::observe(int status)
{
    if (observed || !observer || !*observer)
        return;
    observed = true;
    ResponseRecord record;
    record.route = routeIndex;
    record.method = method;
    record.status = status;
    record.durationNs = timer.nsecsElapsed();
    record.bytesIn = bytesIn;
    record.bytesOut = bytesOut;
    const qint64 store = storeNs.load(std::memory_order_relaxed);
    record.storeNs = store > 0 ? store : -1;
    record.callerKind = callerKind;
    record.callerId = callerId;
    record.callerCollection = callerCollection;
    record.pattern = route;
    record.path = path;
    record.client = client;
    record.requestId = requestId;
    record.startMs = startMs;
    (*observer)(record);
}

void Exchange::sendPart(Connection &connection, QByteArrayView bytes)
{
    bytesOut += bytes.size();
    connection.sendPart(bytes);
}

namespace {

// Whether the response can use chunked transfer coding and stay open: HTTP/1.0 knows neither
// chunking nor (without extensions we do not offer) keep-alive, so its body ends with the close.
bool chunkedFor(const Connection &connection)
{
    return connection.head().minorVersion >= 1;
}

bool keepAliveFor(const Connection &connection, int status)
{
    return chunkedFor(connection) && (status < 500 || status == 503) && !connection.willClose();
}

} // namespace

void Exchange::sendStreamHead(Connection &connection)
{
    const int status = streamHead.status;
    QByteArray out;
    out.reserve(256);
    out.append("HTTP/1.1 ").append(QByteArray::number(status)).append(' ').append(reasonPhrase(status));
    out.append("\r\nDate: ").append(httpDate()).append("\r\n");
    if (!streamHead.contentType.isEmpty())
        out.append("Content-Type: ").append(streamHead.contentType).append("\r\n");
    for (const auto &[name, value] : std::as_const(streamHead.headers))
        out.append(name).append(": ").append(value).append("\r\n");
    for (const auto &[name, value] : std::as_const(headers))
        out.append(name).append(": ").append(value).append("\r\n");
    out.append("X-Request-Id: ").append(requestId).append("\r\n");
    out.append(headerLines.isEmpty() ? connection.guard().fixedHeaders : headerLines);
    // RFC 9112 §6.1: a HEAD response may carry the Transfer-Encoding a GET would get.
    if (chunkedFor(connection))
        out.append("Transfer-Encoding: chunked\r\n");
    if (!keepAliveFor(connection, status))
        out.append("Connection: close\r\n");
    out.append("\r\n");
    sendPart(connection, out);
    headSent = true;
}

bool Exchange::pump(Connection &connection)
{
    const bool chunked = chunkedFor(connection);
    const bool headRequest = method == Method::Head;
    while (connection.canSendPart()) {
        QByteArray piece;
        Status status;
        switch (body->take(piece, status)) {
        case BodyChannel::Take::Pending:
            return false;
        case BodyChannel::Take::Piece:
            if (!headSent)
                sendStreamHead(connection);
            if (headRequest || piece.isEmpty())
                continue;
            if (chunked)
                sendPart(connection, QByteArray::number(piece.size(), 16).append("\r\n"));
            sendPart(connection, piece);
            if (chunked)
                sendPart(connection, "\r\n");
            continue;
        case BodyChannel::Take::End:
            if (!status && !headSent) {
                finish(connection, Response::fromError(status.error()));
                return false;
            }
            if (!status) {
                qCWarning(lcHttp) << "streamed response for" << route << "cut short:" << status.error().message;
                connection.abortResponse(false);
            } else {
                if (!headSent)
                    sendStreamHead(connection);
                const bool keepAlive = keepAliveFor(connection, streamHead.status);
                const QByteArray last = chunked && !headRequest ? QByteArray("0\r\n\r\n") : QByteArray();
                bytesOut += last.size();
                connection.respond(last, keepAlive);
            }
            observe(streamHead.status);
            return false;
        }
    }
    return true;
}

Engine::Engine(const Router &router, const ResponseObserver &observer, std::unique_ptr<Store::Database> reader,
               QList<QPair<QHostAddress, int>> trustedProxies, RateLimiter *limiter, QObject *parent)
    : QAbstractHttpServer(parent)
    , m_router(router)
    , m_observer(observer)
    , m_reader(std::move(reader))
    , m_trustedProxies(std::move(trustedProxies))
    , m_limiter(limiter)
{
    for (const Router::RouteInfo &route : m_router.routes())
        m_rateGroups.push_back(rateGroupOf(route.method, route.pattern, route.policy));
}

std::optional<Response> Engine::applyRateLimit(const Request &request, Exchange &exchange, int route) const
{
    if (!m_limiter || route < 0 || size_t(route) >= m_rateGroups.size() || !m_rateGroups[size_t(route)])
        return std::nullopt;
    const RateGroup group = *m_rateGroups[size_t(route)];
    const auto decision = m_limiter->take(group, RateLimiter::partitionOf(request, group));
    if (!decision)
        return std::nullopt;
    exchange.headers.append({"RateLimit-Policy", RateLimiter::policyHeader(*decision)});
    exchange.headers.append({"RateLimit", RateLimiter::stateHeader(*decision)});
    if (decision->allowed)
        return std::nullopt;
    return Response::problem(429,
                             QStringLiteral("Too many requests: the %1 limit is %2 requests per %3 s for each "
                                            "caller. Retry in %4 s.")
                                 .arg(rateGroupName(decision->group))
                                 .arg(decision->rule.limit)
                                 .arg(decision->rule.windowSeconds)
                                 .arg(decision->retryAfterSeconds))
        .withHeader("Retry-After", QByteArray::number(decision->retryAfterSeconds));
}

Engine::~Engine() = default;

bool Engine::handleRequest(const QHttpServerRequest &qtRequest, QTcpSocket *socket)
{
    auto *connection = qobject_cast<Connection *>(socket);
    if (!connection)
        return false;
    const RequestHead &head = connection->head();
    auto exchange = std::make_shared<Exchange>();
    exchange->timer.start();
    exchange->startMs = QDateTime::currentMSecsSinceEpoch(); // clock_gettime through the vDSO: no system call
    Store::threadStoreNs() = 0; // what the handler's reads take on this thread (Responder::addStoreTime)
    exchange->method = toMethod(head.method);
    exchange->observer = &m_observer;

    Request request;
    request.method = exchange->method;
    request.path = pathOf(head.target).toByteArray();
    exchange->path = request.path;
    request.query = QUrlQuery(qtRequest.url());
    request.headers = head.fields;
    request.body = qtRequest.body();
    exchange->bytesIn = head.headLength + request.body.size(); // a chunked body as decoded
    request.peer = connection->wire()->peerAddress();
    request.client = clientAddress(request, m_trustedProxies);
    exchange->client = request.client;
    request.reader = m_reader.get();
    const QByteArray clientRequestId = request.header("x-request-id");
    exchange->requestId = isAcceptableRequestId(clientRequestId) ? clientRequestId : newRequestId();

    const GuardConfig &guard = connection->guard();
    if (guard.cors.isEnabled()) {
        if (const QByteArray cors = guard.cors.responseHeaders(request.header("origin")); !cors.isEmpty())
            exchange->headerLines = guard.fixedHeaders + cors;
    }

    Responder responder(connection, exchange);
    Router::Match match = m_router.match(request.method, request.path);
    exchange->route = match.pattern.isEmpty() ? QByteArray("(unmatched)") : match.pattern;
    exchange->routeIndex = match.route;
    if (!match.handler) {
        if (match.allow.isEmpty()) {
            responder.send(Response::problem(404, QStringLiteral("The requested resource wasn't found.")));
        } else if (request.method == Method::Options) {
            const QByteArray origin = request.header("origin");
            const QByteArray wanted = request.header("access-control-request-method");
            if (guard.cors.isEnabled() && Cors::isPreflight(head.method, origin, wanted)) {
                exchange->headerLines.clear(); // the preflight's answer has CORS fields of its own
                responder.send(guard.cors.preflight(origin, wanted, request.header("access-control-request-headers"),
                                                    match.allow));
            } else {
                responder.send(Response::empty(204).withHeader("Allow", match.allow));
            }
        } else {
            responder.send(Response::problem(405,
                                             QStringLiteral("The method %1 is not allowed here.")
                                                 .arg(QString::fromLatin1(methodName(request.method))))
                               .withHeader("Allow", match.allow));
        }
        return true;
    }
    request.params = std::move(match.params);
    // One wrapper for every route: nothing unexpected escapes into Qt's event loop.
    try {
        auto refused = m_router.admit(request, *match.policy);
        exchange->callerKind = request.caller.kind;
        exchange->callerId = request.caller.id;
        exchange->callerCollection = request.caller.collection;
        // After the gate, which says who the caller is; a refused credential counts against the
        // client address, so that guessing keys or tokens is limited like any anonymous request.
        if (auto limited = applyRateLimit(request, *exchange, match.route))
            refused = std::move(limited);
        if (refused)
            return responder.send(std::move(*refused)), true;
        (*match.handler)(request, responder);
    } catch (const std::exception &e) {
        qCCritical(lcHttp) << "handler for" << match.pattern << "threw:" << e.what();
        responder.send(Response::problem(500, QStringLiteral("Internal error.")));
    } catch (...) {
        qCCritical(lcHttp) << "handler for" << match.pattern << "threw";
        responder.send(Response::problem(500, QStringLiteral("Internal error.")));
    }
    return true;
}

void Engine::missingHandler(const QHttpServerRequest &, QTcpSocket *)
{
    // Unreachable: handleRequest() answers every request itself.
}

} // namespace Outpost::Http
