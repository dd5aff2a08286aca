#include "requestframer.h"

#include "bodylimits.h"
#include "hostcheck.h"

namespace Outpost::Http {

namespace {

// An Authorization or X-API-Key field, whatever it holds (the gate checks it later).
bool presentsCredential(const RequestHead &head)
{
    for (const auto &[name, value] : head.fields)
        if ((name.compare("authorization", Qt::CaseInsensitive) == 0
             || name.compare("x-api-key", Qt::CaseInsensitive) == 0)
            && !value.trimmed().isEmpty())
            return true;
    return false;
}

// RFC 9110 §5.6.2 tchar
bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s)
        if (!isTokenChar(c))
            return false;
    return true;
}

bool isAllowedMethod(QByteArrayView m)
{
    return m == "GET" || m == "HEAD" || m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE" || m == "OPTIONS";
}

bool isValidTarget(QByteArrayView t, QByteArrayView method)
{
    if (t.isEmpty())
        return false;
    for (char c : t)
        if (uchar(c) <= 0x20 || uchar(c) >= 0x7f)
            return false;
    if (t == "*")
        return method == "OPTIONS";
    return t.startsWith('/') || t.startsWith("http://") || t.startsWith("https://");
}

HeadResult fail(FrameError *error, int status, QString detail)
{
    error->status = status;
    error->detail = std::move(detail);
    return HeadResult::Error;
}

// The next line of `data` from `from`, without its CRLF or LF. Returns false if no LF yet.
bool nextLine(QByteArrayView data, qsizetype from, QByteArrayView *line, qsizetype *next)
{
    const qsizetype lf = data.indexOf('\n', from);
    if (lf < 0)
        return false;
    qsizetype end = lf;
    if (end > from && data[end - 1] == '\r')
        --end;
    *line = data.sliced(from, end - from);
    *next = lf + 1;
    return true;
}

QList<QByteArrayView> commaList(QByteArrayView value)
{
    QList<QByteArrayView> out;
    qsizetype start = 0;
    while (start <= value.size()) {
        qsizetype comma = value.indexOf(',', start);
        if (comma < 0)
            comma = value.size();
        const QByteArrayView part = value.sliced(start, comma - start).trimmed();
        if (!part.isEmpty())
            out << part;
        start = comma + 1;
    }
    return out;
}

} // namespace

HeadResult parseRequestHead(QByteArrayView data, const Limits &limits, RequestHead *head, FrameError *error,
                            const HeadChecks &checks)
{
    *head = RequestHead {};
    qsizetype pos = 0;
    while (pos < data.size() && (data[pos] == '\r' || data[pos] == '\n'))
        ++pos;
    head->skipped = pos;
    if (pos > 64)
        return fail(error, 400, QStringLiteral("Too many empty lines before the request line."));

    QByteArrayView line;
    qsizetype next = 0;
    if (!nextLine(data, pos, &line, &next)) {
        if (data.size() - pos > limits.maxRequestLine)
            return fail(error, 414,
                        QStringLiteral("The request line is longer than %1 bytes.").arg(limits.maxRequestLine));
        return HeadResult::NeedMore;
    }
    if (line.size() > limits.maxRequestLine)
        return fail(error, 414, QStringLiteral("The request line is longer than %1 bytes.").arg(limits.maxRequestLine));
    if (line.contains('\r'))
        return fail(error, 400, QStringLiteral("Stray CR in the request line."));

    const qsizetype sp1 = line.indexOf(' ');
    const qsizetype sp2 = sp1 < 0 ? -1 : line.indexOf(' ', sp1 + 1);
    if (sp1 <= 0 || sp2 < 0 || line.indexOf(' ', sp2 + 1) >= 0)
        return fail(error, 400, QStringLiteral("Malformed request line."));
    const QByteArrayView method = line.first(sp1);
    const QByteArrayView target = line.sliced(sp1 + 1, sp2 - sp1 - 1);
    const QByteArrayView version = line.sliced(sp2 + 1);
    if (!isToken(method))
        return fail(error, 400, QStringLiteral("Malformed request method."));
    if (!version.startsWith("HTTP/") || version.size() != 8 || version[6] != '.' || !std::isdigit(uchar(version[5]))
        || !std::isdigit(uchar(version[7])))
        return fail(error, 400, QStringLiteral("Malformed HTTP version."));
    if (version != "HTTP/1.1" && version != "HTTP/1.0")
        return fail(error, 505, QStringLiteral("Only HTTP/1.0 and HTTP/1.1 are supported."));
    if (!isAllowedMethod(method))
        return fail(error, 501, QStringLiteral("The method %1 is not supported.").arg(QString::fromLatin1(method)));
    if (!isValidTarget(target, method))
        return fail(error, 400, QStringLiteral("Malformed request target."));
    head->method = method.toByteArray();
    head->target = target.toByteArray();
    head->minorVersion = version[7] - '0';
    head->keepAlive = head->minorVersion == 1;

    int hostCount = 0;
    bool haveLength = false;
    bool haveTransferEncoding = false;
    bool closeRequested = false; // RFC 9112 §9.3: `close` wins over `keep-alive`
    for (;;) {
        if (!nextLine(data, next, &line, &next)) {
            if (data.size() - pos > limits.maxHeaderBytes)
                return fail(error, 431,
                            QStringLiteral("The request header is larger than %1 bytes.").arg(limits.maxHeaderBytes));
            return HeadResult::NeedMore;
        }
        if (next - pos > limits.maxHeaderBytes)
            return fail(error, 431,
                        QStringLiteral("The request header is larger than %1 bytes.").arg(limits.maxHeaderBytes));
        if (line.isEmpty())
            break;
        if (line[0] == ' ' || line[0] == '\t')
            return fail(error, 400, QStringLiteral("Obsolete line folding is not accepted (RFC 9112 §5.2)."));
        const qsizetype colon = line.indexOf(':');
        if (colon <= 0 || !isToken(line.first(colon)))
            return fail(error, 400, QStringLiteral("Malformed header field."));
        const QByteArrayView name = line.first(colon);
        const QByteArrayView value = line.sliced(colon + 1).trimmed();
        for (char c : value)
            if ((uchar(c) < 0x20 && c != '\t') || c == 0x7f)
                return fail(error, 400,
                            QStringLiteral("Control character in header field %1.").arg(QString::fromLatin1(name)));
        if (head->fields.size() >= limits.maxHeaderCount)
            return fail(error, 431, QStringLiteral("More than %1 header fields.").arg(limits.maxHeaderCount));
        head->fields.append({name.toByteArray(), value.toByteArray()});

        if (name.compare("content-length", Qt::CaseInsensitive) == 0) {
            // RFC 9110 §8.6: a list of identical values may be treated as one; anything else is an error.
            bool fieldHasValue = false;
            for (QByteArrayView v : commaList(value)) {
                bool ok = v.size() <= 15;
                for (char c : v)
                    ok = ok && std::isdigit(uchar(c));
                const qint64 n = ok ? v.toLongLong(&ok) : -1;
                if (!ok || (haveLength && n != head->contentLength))
                    return fail(error, 400, QStringLiteral("Invalid Content-Length."));
                head->contentLength = n;
                haveLength = true;
                fieldHasValue = true;
            }
            if (!fieldHasValue)
                return fail(error, 400, QStringLiteral("Invalid Content-Length."));
        } else if (name.compare("transfer-encoding", Qt::CaseInsensitive) == 0) {
            for (QByteArrayView coding : commaList(value)) {
                if (head->chunked)
                    return fail(error, 400, QStringLiteral("chunked must be the last transfer coding."));
                if (coding.compare("chunked", Qt::CaseInsensitive) != 0)
                    return fail(
                        error, 501,
                        QStringLiteral("Transfer coding %1 is not supported.").arg(QString::fromLatin1(coding)));
                head->chunked = true;
            }
            haveTransferEncoding = true;
        } else if (name.compare("host", Qt::CaseInsensitive) == 0) {
            ++hostCount;
            head->host = head->fields.constLast().second; // shared, not copied
        } else if (name.compare("expect", Qt::CaseInsensitive) == 0) {
            if (value.compare("100-continue", Qt::CaseInsensitive) != 0)
                return fail(error, 417, QStringLiteral("Only `Expect: 100-continue` is supported."));
            head->expectContinue = head->minorVersion == 1;
        } else if (name.compare("connection", Qt::CaseInsensitive) == 0) {
            for (QByteArrayView option : commaList(value)) {
                if (option.compare("close", Qt::CaseInsensitive) == 0)
                    closeRequested = true;
                else if (option.compare("keep-alive", Qt::CaseInsensitive) == 0 && head->minorVersion == 0)
                    head->keepAlive = true;
            }
        }
    }
    head->headLength = next - pos;
    if (closeRequested)
        head->keepAlive = false;

    // RFC 9112 §6.1: a message with both is a smuggling attempt or a broken proxy; refuse it.
    if (haveTransferEncoding && haveLength)
        return fail(error, 400, QStringLiteral("Both Transfer-Encoding and Content-Length are present."));
    if (haveTransferEncoding && !head->chunked)
        return fail(error, 400, QStringLiteral("Invalid Transfer-Encoding."));
    if (haveTransferEncoding && head->minorVersion == 0)
        return fail(error, 400, QStringLiteral("Transfer-Encoding is not allowed in HTTP/1.0."));
    if (hostCount > 1 || (hostCount == 0 && head->minorVersion == 1))
        return fail(error, 400, QStringLiteral("An HTTP/1.1 request needs exactly one Host header (RFC 9112 §3.2)."));
    if (checks.hosts && !checks.hosts->allows(*head))
        return fail(error, 403, QStringLiteral("Host not allowed (see the allowed_hosts setting)."));
    if (head->chunked || head->contentLength > 0) {
        head->maxBody
            = checks.bodyLimits ? checks.bodyLimits->limitFor(head->method, head->target) : limits.maxBodyBytes;
        // A route's larger limit (imports) is for callers that present a credential: an anonymous
        // client must not make the server buffer 64 MiB per connection before anyone checks it.
        if (head->maxBody > limits.maxBodyBytes && !presentsCredential(*head))
            head->maxBody = limits.maxBodyBytes;
        if (head->contentLength > head->maxBody)
            return fail(error, 413, QStringLiteral("The request body is larger than %1 bytes.").arg(head->maxBody));
    }
    return HeadResult::Complete;
}

ChunkedDecoder::Result ChunkedDecoder::feed(QByteArrayView input, QByteArray &body, qsizetype &consumed,
                                            FrameError *error)
{
    consumed = 0;
    auto failWith = [error](int status, QString detail) {
        error->status = status;
        error->detail = std::move(detail);
        return Result::Error;
    };
    while (m_state != State::Done) {
        QByteArrayView line;
        qsizetype next = 0;
        switch (m_state) {
        case State::Size: {
            if (!nextLine(input, consumed, &line, &next)) {
                if (input.size() - consumed > 1024)
                    return failWith(400, QStringLiteral("Chunk size line too long."));
                return Result::NeedMore;
            }
            const qsizetype semicolon = line.indexOf(';');
            const QByteArrayView digits = (semicolon >= 0 ? line.first(semicolon) : line).trimmed();
            bool ok = !digits.isEmpty() && digits.size() <= 15;
            for (char c : digits)
                ok = ok && std::isxdigit(uchar(c));
            const qint64 size = ok ? digits.toLongLong(&ok, 16) : -1;
            if (!ok)
                return failWith(400, QStringLiteral("Malformed chunk size."));
            if (body.size() + size > m_maxBody)
                return failWith(413, QStringLiteral("The request body is larger than %1 bytes.").arg(m_maxBody));
            consumed = next;
            m_remaining = size;
            m_state = size == 0 ? State::Trailer : State::Data;
            break;
        }
        case State::Data: {
            const qint64 n = qMin<qint64>(m_remaining, input.size() - consumed);
            if (n == 0)
                return Result::NeedMore;
            body.append(input.sliced(consumed, n));
            consumed += n;
            m_remaining -= n;
            if (m_remaining == 0)
                m_state = State::DataEnd;
            break;
        }
        case State::DataEnd:
            if (input.size() - consumed < 1 || (input[consumed] == '\r' && input.size() - consumed < 2))
                return Result::NeedMore;
            if (input[consumed] == '\n')
                consumed += 1;
            else if (input[consumed] == '\r' && input[consumed + 1] == '\n')
                consumed += 2;
            else
                return failWith(400, QStringLiteral("Missing CRLF after chunk data."));
            m_state = State::Size;
            break;
        case State::Trailer:
            if (!nextLine(input, consumed, &line, &next)) {
                if (m_trailerBytes + input.size() - consumed > 8192)
                    return failWith(431, QStringLiteral("Chunked trailer section too large."));
                return Result::NeedMore;
            }
            m_trailerBytes += next - consumed;
            consumed = next;
            if (m_trailerBytes > 8192)
                return failWith(431, QStringLiteral("Chunked trailer section too large."));
            if (line.isEmpty())
                m_state = State::Done;
            break;
        case State::Done:
            break;
        }
    }
    return Result::Done;
}

QByteArray forwardedRequest(const RequestHead &head, QByteArrayView body)
{
    QByteArray out;
    out.reserve(head.method.size() + head.target.size() + 40 + body.size());
    out.append(head.method).append(' ').append(head.target).append(" HTTP/1.").append(char('0' + head.minorVersion));
    if (!body.isEmpty())
        out.append("\r\nContent-Length: ").append(QByteArray::number(body.size()));
    out.append("\r\n\r\n").append(body);
    return out;
}

} // namespace Outpost::Http
