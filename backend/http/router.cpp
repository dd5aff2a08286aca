#include "router.h"

#include <QElapsedTimer>
#include <QThreadPool>
#include <QUrl>

#include "../store/sqlite.h"
#include "connection.h"
#include "exchange.h"

namespace Outpost::Http {

QByteArray methodName(Method method)
{
    switch (method) {
    case Method::Get:
        return "GET";
    case Method::Head:
        return "HEAD";
    case Method::Post:
        return "POST";
    case Method::Put:
        return "PUT";
    case Method::Patch:
        return "PATCH";
    case Method::Delete:
        return "DELETE";
    case Method::Options:
        return "OPTIONS";
    }
    return {};
}

QByteArray Request::header(QByteArrayView name) const
{
    for (const auto &[key, value] : headers)
        if (name.compare(key, Qt::CaseInsensitive) == 0)
            return value;
    return {};
}

Responder::Responder(Connection *connection, std::shared_ptr<Exchange> exchange)
    : m_connection(connection)
    , m_exchange(std::move(exchange))
{
}

void Responder::send(Response response) const
{
    addStoreTime(); // the handler's part on this network thread
    deliver(std::move(response));
}

void Responder::deliver(Response response) const
{
    if (!m_exchange || m_exchange->answered.exchange(true))
        return;
    if (!m_connection || !m_connection->isDispatched())
        return;
    m_exchange->finish(*m_connection, std::move(response));
}

void Responder::post(Response response) const
{
    addStoreTime(); // this thread's (a worker's, the store writer's) part
    Connection *connection = m_connection.data();
    if (!connection)
        return;
    // The context object makes Qt drop the call if the connection is deleted before it runs. It
    // delivers without booking: what the network thread spent meanwhile was other requests'.
    QMetaObject::invokeMethod(
        connection, [self = *this, response = std::move(response)]() mutable { self.deliver(std::move(response)); },
        Qt::QueuedConnection);
}

void Responder::runBlocking(QThreadPool *pool, std::function<Response()> work) const
{
    addStoreTime(); // the handler's part on this network thread, before the worker's
    pool->start([self = *this, work = std::move(work)] {
        Store::threadStoreNs() = 0;
        self.post(work());
    });
}

void Responder::addStoreTime() const
{
    const qint64 ns = std::exchange(Store::threadStoreNs(), 0);
    if (m_exchange && ns > 0)
        m_exchange->storeNs.fetch_add(ns, std::memory_order_relaxed);
}

void Responder::stream(QThreadPool *pool, Response head, BodyProducer produce) const
{
    addStoreTime(); // the handler's part on this network thread (the producer's is not booked)
    if (!m_exchange || !m_connection || !m_connection->isDispatched() || m_exchange->answered.exchange(true))
        return;
    auto channel = std::make_shared<BodyChannel>(m_exchange->method == Method::Head);
    const bool started = pool->tryStart([channel, produce = std::move(produce)] {
        BodyWriter writer(channel);
        Status status;
        // A worker thread has no route wrapper: an exception must end the stream, not the process.
        try {
            status = produce(writer);
        } catch (const std::exception &e) {
            status
                = makeError(ErrorCode::Internal, QStringLiteral("Internal error: %1").arg(QString::fromUtf8(e.what())));
        } catch (...) {
            status = makeError(ErrorCode::Internal, QStringLiteral("Internal error."));
        }
        channel->finish(std::move(status));
    });
    if (!started) {
        Response busy
            = Response::problem(503, QStringLiteral("Too many streamed responses are running; try again shortly."));
        busy.withHeader("Retry-After", "1");
        m_exchange->finish(*m_connection, std::move(busy));
        return;
    }
    m_exchange->streamHead = std::move(head);
    m_exchange->body = std::move(channel);
    m_connection->beginStream(m_exchange);
}

BodyWriter::BodyWriter(std::shared_ptr<BodyChannel> channel)
    : m_channel(std::move(channel))
{
}

bool BodyWriter::write(QByteArray piece)
{
    return m_channel->write(std::move(piece));
}

bool BodyWriter::isCancelled() const
{
    return m_channel->isCancelled();
}

BodyChannel::BodyChannel(bool headOnly)
    : m_headOnly(headOnly)
{
}

bool BodyChannel::write(QByteArray piece)
{
    std::unique_lock lock(m_mutex);
    m_space.wait(lock, [this] { return m_cancelled || m_queued < kWindowBytes; });
    if (m_cancelled)
        return false;
    if (m_headOnly) {
        m_pieces.emplace_back(); // releases the head; HEAD has no body
        m_cancelled = true;
        wakeLocked();
        return false;
    }
    if (piece.isEmpty())
        return true; // an empty chunk would end the body (RFC 9112 §7.1)
    m_queued += piece.size();
    m_pieces.push_back(std::move(piece));
    wakeLocked();
    return true;
}

bool BodyChannel::isCancelled() const
{
    std::lock_guard lock(m_mutex);
    return m_cancelled;
}

void BodyChannel::finish(Status status)
{
    std::lock_guard lock(m_mutex);
    m_finished = true;
    m_status = std::move(status);
    wakeLocked();
}

BodyChannel::Take BodyChannel::take(QByteArray &piece, Status &status)
{
    std::lock_guard lock(m_mutex);
    if (!m_pieces.empty()) {
        piece = std::move(m_pieces.front());
        m_pieces.pop_front();
        m_queued -= piece.size();
        m_space.notify_one();
        return Take::Piece;
    }
    if (m_finished) {
        status = m_status;
        return Take::End;
    }
    m_wantWake = true;
    return Take::Pending;
}

void BodyChannel::cancel()
{
    std::lock_guard lock(m_mutex);
    m_cancelled = true;
    m_pieces.clear();
    m_queued = 0;
    m_space.notify_all();
}

void BodyChannel::attach(Connection *connection)
{
    std::lock_guard lock(m_mutex);
    m_connection = connection;
}

void BodyChannel::detach()
{
    std::lock_guard lock(m_mutex);
    m_connection = nullptr;
    m_wantWake = false;
}

void BodyChannel::wakeLocked()
{
    if (!m_wantWake || !m_connection)
        return;
    m_wantWake = false;
    // Posting from this thread is safe while we hold the lock: the connection detaches (taking the
    // lock) before it is destroyed, and a destroyed QObject's posted events are discarded.
    Connection *connection = m_connection;
    QMetaObject::invokeMethod(
        connection, [connection] { connection->pumpStream(); }, Qt::QueuedConnection);
}

void Router::add(Method method, const QByteArray &pattern, Policy policy, Handler handler)
{
    m_routes.push_back(Route {method, pattern, pattern.split('/'), policy, std::move(handler)});
}

std::optional<Response> Router::admit(Request &request, const Policy &policy) const
{
    if (m_gate)
        return m_gate(request, policy);
    if (policy.kind == Policy::Kind::Permission)
        return Response::fromError(
            makeError(ErrorCode::Unauthenticated, QStringLiteral("The request requires valid authorization.")));
    return std::nullopt;
}

QList<Router::RouteInfo> Router::routes() const
{
    QList<RouteInfo> out;
    for (const Route &r : m_routes)
        out.append({r.method, r.pattern, r.policy});
    return out;
}

QString Caller::label() const
{
    switch (kind) {
    case Kind::Superuser:
        return QStringLiteral("superuser:") + id;
    case Kind::ApiKey:
        return QStringLiteral("apikey:") + id;
    case Kind::User:
        return QStringLiteral("user:") + collection + u':' + id;
    case Kind::Guest:
        break;
    }
    return QStringLiteral("guest");
}

PathSegments pathSegments(QByteArrayView path)
{
    PathSegments segments;
    for (qsizetype start = 0;;) {
        const qsizetype slash = path.indexOf('/', start);
        if (slash < 0) {
            segments.append(path.sliced(start));
            break;
        }
        segments.append(path.sliced(start, slash - start));
        start = slash + 1;
    }
    return segments;
}

Router::Match Router::match(Method method, QByteArrayView path) const
{
    const PathSegments segments = pathSegments(path);
    Match out;
    QList<QByteArray> allowed;
    for (size_t index = 0; index < m_routes.size(); ++index) {
        const Route &route = m_routes[index];
        if (route.segments.size() != segments.size())
            continue;
        QList<QString> params;
        bool ok = true;
        for (qsizetype i = 0; ok && i < segments.size(); ++i) {
            const QByteArray &want = route.segments[i];
            if (want.startsWith('{') && want.endsWith('}')) {
                ok = !segments[i].isEmpty();
                params << QUrl::fromPercentEncoding(segments[i].toByteArray());
            } else {
                ok = want == segments[i];
            }
        }
        if (!ok)
            continue;
        if (route.method == method || (method == Method::Head && route.method == Method::Get)) {
            out.handler = &route.handler;
            out.policy = &route.policy;
            out.pattern = route.pattern;
            out.params = std::move(params);
            out.route = int(index);
            return out;
        }
        if (allowed.isEmpty())
            out.route = int(index);
        for (const QByteArray &m : {methodName(route.method), QByteArray(route.method == Method::Get ? "HEAD" : "")})
            if (!m.isEmpty() && !allowed.contains(m))
                allowed << m;
    }
    if (!allowed.isEmpty()) {
        allowed << "OPTIONS";
        out.allow = allowed.join(", ");
        out.pattern = "(method not allowed)";
    }
    return out;
}

} // namespace Outpost::Http
