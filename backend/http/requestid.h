#pragma once

#include <QByteArray>
#include <QByteArrayView>

namespace Outpost::Http {

// Every response carries `X-Request-Id`: the client's own when it sent an acceptable one, otherwise
// one of ours. The request log stores the same value, so a client can name a request to an operator.

// An id a client may choose: 1 to 64 characters of [A-Za-z0-9._-] (safe in a header, a log and a
// filter without escaping).
bool isAcceptableRequestId(QByteArrayView id);

// A new id, unique within this process and, with 50 random bits chosen at start, between runs:
// "k3f9x2qa7m-1f" (a per-process prefix, '-', a counter in hex). No system call and one allocation;
// thread-safe.
QByteArray newRequestId();

} // namespace Outpost::Http
