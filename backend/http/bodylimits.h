#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <vector>

#include "../core/result.h"
#include "limits.h"
#include "router.h"

namespace Outpost::Http {

// A body limit for one route that differs from Limits::maxBodyBytes.
struct RouteBodyLimit
{
    Method method;
    QByteArray pattern; // as registered with Router::add
    qint64 maxBytes;
};

// The routes whose bodies get their own limit: imports (Limits::maxImportBytes) and the login,
// token, refresh and logout endpoints (Limits::maxAuthBodyBytes).
QList<RouteBodyLimit> standardRouteBodyLimits(const Limits &limits);

// Which body limit applies to a request, from its method and target alone, so that the guard can
// refuse an oversized body with 413 before reading it. Built once from the Router's table: the
// route that decides is the one Router::match would pick (the first registered route whose method
// and pattern fit), so a request is held to the limit of the handler that will read its body.
//
// Immutable after create(); safe to share between network threads.
class BodyLimits
{
public:
    // InvalidArgument when a rule names a route the router does not have: a renamed route must
    // not lose its limit silently.
    static Result<BodyLimits> create(const Router &router, qint64 defaultLimit, const QList<RouteBodyLimit> &rules);

    // `target` as in the request line (origin or absolute form, with or without a query).
    qint64 limitFor(QByteArrayView method, QByteArrayView target) const;
    qint64 defaultLimit() const { return m_default; }

private:
    struct Route
    {
        QByteArray method;
        QList<QByteArray> segments;
        qint64 limit;
    };
    qint64 m_default = 0;
    // Every route of a method that some rule names, in registration order; methods no rule names
    // always get the default and are not looked at.
    std::vector<Route> m_routes;
};

} // namespace Outpost::Http
