#include "response.h"

#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QTimeZone>

namespace Outpost::Http {

namespace {

// `n` in decimal (as QByteArray::number() writes it), in `buffer`.
QByteArrayView decimal(char (&buffer)[24], qint64 n)
{
    char *const end = buffer + sizeof buffer;
    char *p = end;
    quint64 u = n < 0 ? 0 - quint64(n) : quint64(n);
    do {
        *--p = char('0' + u % 10);
        u /= 10;
    } while (u > 0);
    if (n < 0)
        *--p = '-';
    return QByteArrayView(p, end - p);
}

const char *reasonText(int status)
{
    switch (status) {
    case 100:
        return "Continue";
    case 200:
        return "OK";
    case 201:
        return "Created";
    case 204:
        return "No Content";
    case 304:
        return "Not Modified";
    case 400:
        return "Bad Request";
    case 401:
        return "Unauthorized";
    case 403:
        return "Forbidden";
    case 404:
        return "Not Found";
    case 405:
        return "Method Not Allowed";
    case 408:
        return "Request Timeout";
    case 409:
        return "Conflict";
    case 411:
        return "Length Required";
    case 413:
        return "Content Too Large";
    case 414:
        return "URI Too Long";
    case 415:
        return "Unsupported Media Type";
    case 417:
        return "Expectation Failed";
    case 422:
        return "Unprocessable Content";
    case 429:
        return "Too Many Requests";
    case 431:
        return "Request Header Fields Too Large";
    case 500:
        return "Internal Server Error";
    case 501:
        return "Not Implemented";
    case 503:
        return "Service Unavailable";
    case 505:
        return "HTTP Version Not Supported";
    default:
        return "Unknown";
    }
}

// PocketBase nests the errors of list items: {"fields": {"0": {"name": {code, message}}}}. Our
// services key them flat ("fields.0.name"); `data` gets the nested form, `errors` the flat one.
void insertNested(QJsonObject &into, QStringView key, const QJsonValue &value)
{
    const qsizetype dot = key.indexOf(u'.');
    if (dot < 0) {
        into.insert(key.toString(), value);
        return;
    }
    const QString head = key.left(dot).toString();
    QJsonObject child = into.value(head).toObject();
    insertNested(child, key.mid(dot + 1), value);
    into.insert(head, child);
}

// Walks field errors keyed flat ("fields.0.name") or nested ({"requests": {"0": {...}}}): a leaf
// is an object with a "code". Fills PocketBase's nested `data` and RFC 9457's flat `errors` list.
void collectErrors(const QJsonObject &fields, const QString &prefix, QJsonObject &data, QJsonArray &errors)
{
    for (auto it = fields.begin(); it != fields.end(); ++it) {
        const QString path = prefix.isEmpty() ? it.key() : prefix + u'.' + it.key();
        const QJsonObject value = it.value().toObject();
        if (value.contains(u"code") || !it.value().isObject()) {
            insertNested(data, path, it.value());
            QJsonObject e = value;
            e.insert(QStringLiteral("field"), path);
            errors.append(e);
        } else {
            collectErrors(value, path, data, errors);
        }
    }
}

} // namespace

QByteArray reasonPhrase(int status)
{
    return QByteArray(reasonText(status));
}

int statusFor(ErrorCode code)
{
    switch (code) {
    case ErrorCode::InvalidArgument:
        return 400;
    case ErrorCode::NotFound:
        return 404;
    case ErrorCode::AlreadyExists:
        return 409;
    case ErrorCode::Conflict:
        return 409;
    case ErrorCode::Unauthenticated:
        return 401;
    case ErrorCode::PermissionDenied:
        return 403;
    case ErrorCode::Unavailable:
        return 503;
    case ErrorCode::Internal:
        return 500;
    }
    return 500;
}

Response Response::json(const QJsonObject &object, int status)
{
    return Response {status, "application/json", QJsonDocument(object).toJson(QJsonDocument::Compact), {}};
}

Response Response::json(QByteArray text, int status)
{
    return Response {status, "application/json", std::move(text), {}};
}

Response Response::empty(int status)
{
    return Response {status, {}, {}, {}};
}

Response Response::problem(int status, const QString &detail, const QJsonObject &fields)
{
    const QString title = QString::fromLatin1(reasonPhrase(status));
    QJsonObject body {{QStringLiteral("type"), QStringLiteral("about:blank")},
                      {QStringLiteral("title"), title},
                      {QStringLiteral("status"), status},
                      {QStringLiteral("detail"), detail},
                      {QStringLiteral("message"), detail}};
    QJsonObject data;
    QJsonArray errors;
    collectErrors(fields, QString(), data, errors);
    body.insert(QStringLiteral("data"), data);
    if (!errors.isEmpty())
        body.insert(QStringLiteral("errors"), errors);
    return Response {status, "application/problem+json", QJsonDocument(body).toJson(QJsonDocument::Compact), {}};
}

Response Response::fromError(const Error &error)
{
    Response r
        = problem(statusFor(error.code), error.message, error.details.value(QStringLiteral("fields")).toObject());
    if (r.status == 401)
        r.withHeader("WWW-Authenticate", "Bearer"); // RFC 6750 §3
    return r;
}

Response &Response::withHeader(QByteArray name, QByteArray value)
{
    headers.append({std::move(name), std::move(value)});
    return *this;
}

QByteArray securityHeaders(bool tls)
{
    QByteArray out("X-Content-Type-Options: nosniff\r\n"
                   "Referrer-Policy: no-referrer\r\n"
                   "X-Frame-Options: DENY\r\n"
                   "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n");
    if (tls)
        out.append("Strict-Transport-Security: max-age=31536000\r\n"); // one year (RFC 6797)
    return out;
}

QByteArray Response::serialize(bool headRequest, bool keepAlive, QByteArrayView date, QByteArrayView headerLines) const
{
    // Runs once per response: the size is computed first and every piece is copied once into a
    // single allocation (no temporaries).
    const bool hasBody = status != 204 && status != 304; // RFC 9110 §8.6: no Content-Length for these
    char statusDigits[24];
    char lengthDigits[24];
    const QByteArrayView statusText = decimal(statusDigits, status);
    const QByteArrayView lengthText = decimal(lengthDigits, body.size());
    const char *reason = reasonText(status);
    const QByteArrayView sendBody = !headRequest && hasBody ? QByteArrayView(body) : QByteArrayView();

    qsizetype size = 9 + statusText.size() + 1 + qstrlen(reason) + 8 + date.size() + 2;
    if (!contentType.isEmpty())
        size += 14 + contentType.size() + 2;
    for (const auto &[name, value] : headers)
        size += name.size() + 2 + value.size() + 2;
    size += headerLines.size();
    if (hasBody)
        size += 16 + lengthText.size() + 2;
    if (!keepAlive)
        size += 19;
    size += 2 + sendBody.size();

    QByteArray out(size, Qt::Uninitialized);
    char *p = out.data();
    const auto put = [&p](QByteArrayView piece) {
        if (piece.isEmpty())
            return; // memcpy from a null pointer is undefined even for 0 bytes
        memcpy(p, piece.data(), size_t(piece.size()));
        p += piece.size();
    };
    put("HTTP/1.1 ");
    put(statusText);
    put(" ");
    put(reason);
    put("\r\nDate: ");
    put(date);
    put("\r\n");
    if (!contentType.isEmpty()) {
        put("Content-Type: ");
        put(contentType);
        put("\r\n");
    }
    for (const auto &[name, value] : headers) {
        put(name);
        put(": ");
        put(value);
        put("\r\n");
    }
    put(headerLines);
    if (hasBody) {
        put("Content-Length: ");
        put(lengthText);
        put("\r\n");
    }
    if (!keepAlive)
        put("Connection: close\r\n");
    put("\r\n");
    put(sendBody);
    Q_ASSERT(p == out.constData() + out.size());
    return out;
}

QByteArrayView httpDate()
{
    thread_local qint64 second = -1;
    thread_local QByteArray text;
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    if (now != second) {
        second = now;
        text = QLocale::c()
                   .toString(QDateTime::fromSecsSinceEpoch(now, Qt::UTC),
                             QStringLiteral("ddd, dd MMM yyyy hh:mm:ss 'GMT'"))
                   .toLatin1();
    }
    return text;
}

} // namespace Outpost::Http
