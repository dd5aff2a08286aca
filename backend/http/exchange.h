#pragma once

#include <QElapsedTimer>
#include <atomic>

#include "router.h"

namespace Outpost::Http {

class Connection;

// The shared state of one request/response pair: the one place where a response is serialised,
// written and observed (metrics), whichever path produced it.
struct Exchange
{
    std::atomic<bool> answered {false};
    Method method = Method::Get;
    QByteArray route; // the matched pattern, e.g. "/api/health"; for metrics and logs
    QElapsedTimer timer;
    const ResponseObserver *observer = nullptr;

    // Network thread only.
    void finish(Connection &connection, Response response);
};

} // namespace Outpost::Http
