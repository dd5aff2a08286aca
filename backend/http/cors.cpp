#include "cors.h"

namespace Outpost::Http {

namespace {

// Request headers a cross-origin script may send: those the API reads, and the CORS-safelisted
// ones (whose values a browser still preflights when they are not "simple").
constexpr const char *kAllowedRequestHeaders[] = {
    "accept",        "accept-language", "authorization", "content-language", "content-type",
    "if-none-match", "x-api-key",       "x-request-id",  "x-requested-with",
};

// Response headers a cross-origin script may read, beyond the safelisted ones.
constexpr char kExposedHeaders[]
    = "Access-Control-Expose-Headers: ETag, Location, Retry-After, RateLimit, RateLimit-Policy, X-Request-Id, "
      "Content-Disposition\r\n";

// Browsers cache a preflight for at most this (Chromium caps it at 2 hours); short enough that a
// changed cors_origins takes effect soon.
constexpr char kMaxAge[] = "600";

bool isAllowedRequestHeader(QByteArrayView name)
{
    for (const char *allowed : kAllowedRequestHeaders)
        if (name.compare(allowed, Qt::CaseInsensitive) == 0)
            return true;
    return false;
}

Response refused(const QString &detail)
{
    return Response::problem(403, detail);
}

} // namespace

Cors::Cors(const QStringList &origins)
{
    for (const QString &origin : origins) {
        if (origin == u"*")
            m_anyOrigin = true;
        else
            m_origins.append(origin.toLatin1());
    }
}

bool Cors::allowsOrigin(QByteArrayView origin) const
{
    if (origin.isEmpty())
        return false;
    if (m_anyOrigin)
        return true;
    // The Origin header is a serialised origin: scheme and host in lower case, no default port
    // (RFC 6454 §6.1). config.cpp stores the allowed ones the same way, so equality is exact.
    for (const QByteArray &allowed : m_origins)
        if (allowed == origin)
            return true;
    return false;
}

QByteArray Cors::fixedHeaders() const
{
    return !m_origins.isEmpty() && !m_anyOrigin ? QByteArray("Vary: Origin\r\n") : QByteArray();
}

QByteArray Cors::responseHeaders(QByteArrayView origin) const
{
    if (!allowsOrigin(origin))
        return {};
    QByteArray out("Access-Control-Allow-Origin: ");
    out.append(m_anyOrigin ? QByteArrayView("*") : origin).append("\r\n").append(kExposedHeaders);
    return out;
}

bool Cors::isPreflight(QByteArrayView method, QByteArrayView origin, QByteArrayView requestMethod)
{
    return method == "OPTIONS" && !origin.isEmpty() && !requestMethod.isEmpty();
}

Response Cors::preflight(QByteArrayView origin, QByteArrayView requestMethod, QByteArrayView requestHeaders,
                         QByteArrayView allow) const
{
    if (!allowsOrigin(origin))
        return refused(QStringLiteral("Cross-origin requests from %1 are not allowed (see the cors_origins setting).")
                           .arg(QString::fromLatin1(origin)));
    bool methodAllowed = false;
    for (const QByteArray &m : allow.toByteArray().split(','))
        methodAllowed = methodAllowed || m.trimmed() == requestMethod; // methods are case-sensitive
    if (!methodAllowed)
        return refused(QStringLiteral("The method %1 is not allowed here.").arg(QString::fromLatin1(requestMethod)));
    QByteArrayList headers;
    for (const QByteArray &h : requestHeaders.toByteArray().split(',')) {
        const QByteArray name = h.trimmed().toLower();
        if (name.isEmpty())
            continue;
        if (!isAllowedRequestHeader(name))
            return refused(QStringLiteral("The request header %1 is not allowed in cross-origin requests.")
                               .arg(QString::fromLatin1(name)));
        headers.append(name);
    }
    Response r = Response::empty(204);
    r.withHeader("Access-Control-Allow-Origin", m_anyOrigin ? QByteArray("*") : origin.toByteArray());
    r.withHeader("Access-Control-Allow-Methods", allow.toByteArray());
    if (!headers.isEmpty())
        r.withHeader("Access-Control-Allow-Headers", headers.join(", "));
    r.withHeader("Access-Control-Max-Age", kMaxAge);
    r.withHeader("Vary", "Access-Control-Request-Method, Access-Control-Request-Headers");
    return r;
}

} // namespace Outpost::Http
