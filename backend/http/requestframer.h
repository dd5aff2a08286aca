#pragma once

#include <QByteArray>
#include <QByteArrayView>
#include <QList>
#include <QString>

#include "limits.h"

namespace Outpost::Http {

// The framing-relevant facts of one request head (RFC 9112), as our guard parsed them.
struct RequestHead
{
    QByteArray method;
    QByteArray target;
    int minorVersion = 1; // HTTP/1.x
    qsizetype skipped = 0; // empty lines before the request line (RFC 9112 §2.2), not part of the head
    qsizetype headLength = 0; // request line + fields + the empty line, from after `skipped`
    qint64 contentLength = 0;
    bool chunked = false;
    bool expectContinue = false;
    bool keepAlive = true;
    qint64 maxBody = 0; // when there is a body: the limit of its route (HeadChecks::bodyLimits)
    QByteArray host; // the Host field's value, if any
    QList<QPair<QByteArray, QByteArray>> fields; // in order, names as sent
};

struct FrameError
{
    int status = 400;
    QString detail;
};

class BodyLimits;
class HostCheck;

// The server's own checks on a complete head, beyond the framing rules; each may be null.
struct HeadChecks
{
    const HostCheck *hosts = nullptr; // null: any Host; else 403 for a Host it does not allow
    const BodyLimits *bodyLimits = nullptr; // null: Limits::maxBodyBytes for every route
};

// Parses the request head at the start of `data` and checks it against `limits` and `checks`,
// strictly: what we forward to Qt's lenient parser must mean the same to both parsers (no
// smuggling). Returns NeedMore while the head is incomplete and within limits. A body's route
// limit is looked up only when there is a body, so that GETs do not pay for it.
enum class HeadResult { NeedMore, Complete, Error };
HeadResult parseRequestHead(QByteArrayView data, const Limits &limits, RequestHead *head, FrameError *error,
                            const HeadChecks &checks = {});

// Incremental decoder for `Transfer-Encoding: chunked` bodies (RFC 9112 §7.1). Chunk extensions
// and trailer fields are read and dropped.
class ChunkedDecoder
{
public:
    enum class Result { NeedMore, Done, Error };
    explicit ChunkedDecoder(qint64 maxBody)
        : m_maxBody(maxBody)
    {
    }
    // Decodes from `input` (the bytes after what earlier calls consumed), appending to `body`.
    // Sets `consumed` to the bytes of `input` used.
    Result feed(QByteArrayView input, QByteArray &body, qsizetype &consumed, FrameError *error);

private:
    enum class State { Size, Data, DataEnd, Trailer, Done };
    State m_state = State::Size;
    qint64 m_remaining = 0;
    qint64 m_maxBody;
    qsizetype m_trailerBytes = 0;
};

// What Qt's parser is given for a validated request: the request line and, if there is a body, a
// plain Content-Length and the body. None of the client's fields are handed on: handlers read them
// from our own parse (RequestHead::fields), so Qt's lenient header parser decides nothing, and
// Qt's one-byte-per-read() head parsing stays short.
QByteArray forwardedRequest(const RequestHead &head, QByteArrayView body);

} // namespace Outpost::Http
