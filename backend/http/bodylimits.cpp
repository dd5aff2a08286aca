#include "bodylimits.h"

namespace Outpost::Http {

namespace {

QByteArrayView pathOf(QByteArrayView target)
{
    if (target.startsWith("http://") || target.startsWith("https://")) {
        const qsizetype slash = target.indexOf('/', target.indexOf("//") + 2);
        target = slash < 0 ? QByteArrayView("/") : target.sliced(slash);
    }
    const qsizetype q = target.indexOf('?');
    return q < 0 ? target : target.first(q);
}

bool isPlaceholder(const QByteArray &segment)
{
    return segment.startsWith('{') && segment.endsWith('}');
}

} // namespace

QList<RouteBodyLimit> standardRouteBodyLimits(const Limits &limits)
{
    const qint64 auth = limits.maxAuthBodyBytes;
    return {
        {Method::Post, "/api/collections/{c}/import", limits.maxImportBytes},
        {Method::Post, "/api/collections/{collection}/auth-with-password", auth},
        {Method::Post, "/api/collections/{collection}/auth-refresh", auth},
        {Method::Post, "/api/collections/{collection}/auth-logout", auth},
        {Method::Post, "/api/oauth2/token", auth},
        {Method::Post, "/api/oauth2/revoke", auth},
    };
}

Result<BodyLimits> BodyLimits::create(const Router &router, qint64 defaultLimit, const QList<RouteBodyLimit> &rules)
{
    BodyLimits out;
    out.m_default = defaultLimit;
    const QList<Router::RouteInfo> routes = router.routes();
    for (const RouteBodyLimit &rule : rules) {
        bool found = false;
        for (const Router::RouteInfo &route : routes)
            found = found || (route.method == rule.method && route.pattern == rule.pattern);
        if (!found)
            return makeError(ErrorCode::InvalidArgument,
                             QStringLiteral("a body limit names the route %1 %2, which does not exist")
                                 .arg(QString::fromLatin1(methodName(rule.method)), QString::fromLatin1(rule.pattern)));
    }
    for (const Router::RouteInfo &route : routes) {
        bool methodHasRule = false;
        qint64 limit = defaultLimit;
        for (const RouteBodyLimit &rule : rules) {
            methodHasRule = methodHasRule || rule.method == route.method;
            if (rule.method == route.method && rule.pattern == route.pattern)
                limit = rule.maxBytes;
        }
        if (methodHasRule)
            out.m_routes.push_back(Route {methodName(route.method), route.pattern.split('/'), limit});
    }
    return out;
}

qint64 BodyLimits::limitFor(QByteArrayView method, QByteArrayView target) const
{
    if (m_routes.empty())
        return m_default;
    const QByteArrayView path = pathOf(target);
    const PathSegments segments = pathSegments(path);
    for (const Route &route : m_routes) {
        if (route.method != method || route.segments.size() != segments.size())
            continue;
        bool ok = true;
        for (qsizetype i = 0; ok && i < segments.size(); ++i)
            ok = isPlaceholder(route.segments[i]) ? !segments[i].isEmpty() : route.segments[i] == segments[i];
        if (ok)
            return route.limit;
    }
    return m_default;
}

} // namespace Outpost::Http
