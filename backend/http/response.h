#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QList>
#include <QPair>

#include "../core/result.h"

namespace Outpost::Http {

// One HTTP response, serialised by us into a single write (Qt's responder writes a header per call).
struct Response
{
    int status = 200;
    QByteArray contentType = "application/json";
    QByteArray body;
    QList<QPair<QByteArray, QByteArray>> headers;

    static Response json(const QJsonObject &object, int status = 200);
    static Response json(QByteArray text, int status = 200); // JSON text already written
    static Response empty(int status);
    // RFC 9457 problem details. The body also carries PocketBase's `message` and `data` members so
    // that the PocketBase JS SDK surfaces the error; `data` lists field errors when there are any.
    static Response problem(int status, const QString &detail, const QJsonObject &fields = {});
    static Response fromError(const Error &error);

    Response &withHeader(QByteArray name, QByteArray value);

    // Status line, Date, these headers, `headerLines` (complete lines, each ending in CRLF, copied
    // as they are: the server's fixed headers, see securityHeaders()), Content-Length, and (unless
    // `headRequest`) the body. `date` is an IMF-fixdate (RFC 9110 §5.6.7).
    QByteArray serialize(bool headRequest, bool keepAlive, QByteArrayView date, QByteArrayView headerLines = {}) const;
};

// The header lines every response carries (OWASP Secure Headers): no MIME sniffing, no Referer,
// no framing, a Content-Security-Policy that lets nothing load or run (we serve JSON, CSV and
// problem+json, never HTML, so a response opened as a page can do nothing), and with TLS, HSTS.
QByteArray securityHeaders(bool tls);

int statusFor(ErrorCode code);
QByteArray reasonPhrase(int status);
// The current time as an IMF-fixdate, recomputed at most once a second per thread.
QByteArrayView httpDate();

} // namespace Outpost::Http
