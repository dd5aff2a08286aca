#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QStringList>

#include "response.h"

namespace Outpost::Http {

// Cross-origin resource sharing (the CORS protocol of the Fetch standard) for browser apps served
// from other origins. `origins` are exact serialised origins ("https://app.example.com",
// "http://localhost:5173"; config.cpp validates and normalises them) or the single entry "*".
// Empty: off, and no response carries a CORS header.
//
// We authenticate with bearer tokens and API keys, never cookies, so no response says
// Access-Control-Allow-Credentials, and "*" is safe to offer.
//
// Immutable; safe to share between network threads.
class Cors
{
public:
    Cors() = default;
    explicit Cors(const QStringList &origins);

    bool isEnabled() const { return m_anyOrigin || !m_origins.isEmpty(); }
    bool allowsOrigin(QByteArrayView origin) const;

    // Header lines (each ending in CRLF) for every response while enabled: "Vary: Origin" when the
    // answer depends on the request's Origin, so that caches keep the variants apart.
    QByteArray fixedHeaders() const;
    // Header lines for the response to an actual request with this Origin (empty: none): the
    // allowed origin and the response headers a script may read. Empty when not allowed.
    QByteArray responseHeaders(QByteArrayView origin) const;

    // Whether a request is a preflight: OPTIONS with Origin and Access-Control-Request-Method.
    static bool isPreflight(QByteArrayView method, QByteArrayView origin, QByteArrayView requestMethod);
    // The answer to a preflight for a path whose methods are `allow` (Router::Match::allow, e.g.
    // "GET, HEAD, OPTIONS"): 204 with the Access-Control-Allow-* fields, or 403 problem+json when
    // the origin, the method or one of the request headers is not allowed.
    Response preflight(QByteArrayView origin, QByteArrayView requestMethod, QByteArrayView requestHeaders,
                       QByteArrayView allow) const;

private:
    QList<QByteArray> m_origins;
    bool m_anyOrigin = false;
};

} // namespace Outpost::Http
