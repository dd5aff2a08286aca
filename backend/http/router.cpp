#include "router.h"

#include <QElapsedTimer>
#include <QThreadPool>
#include <QUrl>
#include <QVarLengthArray>

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
    if (!m_exchange || m_exchange->answered.exchange(true))
        return;
    if (!m_connection || !m_connection->isDispatched())
        return;
    m_exchange->finish(*m_connection, std::move(response));
}

void Responder::post(Response response) const
{
    Connection *connection = m_connection.data();
    if (!connection)
        return;
    // The context object makes Qt drop the call if the connection is deleted before it runs.
    QMetaObject::invokeMethod(
        connection, [self = *this, response = std::move(response)]() mutable { self.send(std::move(response)); },
        Qt::QueuedConnection);
}

void Responder::runBlocking(QThreadPool *pool, std::function<Response()> work) const
{
    pool->start([self = *this, work = std::move(work)] { self.post(work()); });
}

void Router::add(Method method, const QByteArray &pattern, Handler handler)
{
    m_routes.push_back(Route {method, pattern, pattern.split('/'), std::move(handler)});
}

Router::Match Router::match(Method method, QByteArrayView path) const
{
    // The same segments as QByteArray::split('/'), as views: no allocation per request.
    QVarLengthArray<QByteArrayView, 16> segments;
    for (qsizetype start = 0;;) {
        const qsizetype slash = path.indexOf('/', start);
        if (slash < 0) {
            segments.append(path.sliced(start));
            break;
        }
        segments.append(path.sliced(start, slash - start));
        start = slash + 1;
    }
    Match out;
    QList<QByteArray> allowed;
    for (const Route &route : m_routes) {
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
            out.pattern = route.pattern;
            out.params = std::move(params);
            return out;
        }
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
