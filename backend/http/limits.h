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
    int headerTimeoutMs = 10'000; // a started request head must be complete within this (slowloris)
    int bodyTimeoutMs = 30'000; // a body must make progress at least this often
    int keepAliveTimeoutMs = 75'000; // an idle keep-alive connection is closed after this
    int lingerMs = 2'000; // after an error response, how long unread input is drained before closing
};

} // namespace Outpost::Http
