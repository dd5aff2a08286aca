#pragma once

#include <QtGlobal>

namespace Outpost::Http {

// What one connection may send and how long it may take. Qt HTTP Server 6.4 enforces none of
// these itself; the Connection guard does, before Qt's parser sees a byte.
struct Limits
{
    qsizetype maxRequestLine = 8 * 1024; // 414 beyond (nginx: 8 KiB)
    qsizetype maxHeaderBytes = 32 * 1024; // whole head, request line included; 431 beyond
    int maxHeaderCount = 64; // 431 beyond; Qt's own parser drops all headers past 100
    qint64 maxBodyBytes = 16 * 1024 * 1024; // 413 beyond, refused before the body is read
    // Per-route body limits (HttpServer::Options::routeBodyLimits, wired in Server). Imports are
    // buffered whole and parsed in memory (a few copies of the body at the peak), so their default
    // stays at 64 MiB rather than hundreds; auth bodies are a few hundred bytes.
    qint64 maxImportBytes = 64 * 1024 * 1024;
    qint64 maxAuthBodyBytes = 64 * 1024;
    int headerTimeoutMs = 10'000; // a started request head must be complete within this (slowloris)
    int bodyTimeoutMs = 30'000; // a body must make progress at least this often
    int keepAliveTimeoutMs = 75'000; // an idle keep-alive connection is closed after this
    int lingerMs = 2'000; // after an error response, how long unread input is drained before closing
    // Open connections, all clients together; 503 beyond. 0: derived from RLIMIT_NOFILE at start
    // (defaultMaxConnections()), so that the server says "busy" before accept() runs out of fds.
    int maxConnections = 0;
    // Per client address (IPv6: per /64), except trusted proxies, which many clients share; 429 beyond.
    int maxConnectionsPerClient = 256;
    int maxInflightPerClient = 64; // requests dispatched and not yet answered
};

} // namespace Outpost::Http
