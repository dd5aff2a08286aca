#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QList>
#include <QPair>
#include <atomic>
#include <optional>

#include "bodylimits.h"
#include "clienttable.h"
#include "cors.h"
#include "hostcheck.h"
#include "limits.h"
#include "requestframer.h"

namespace Outpost::Http {

// What every Connection (and Engine) of one HttpServer shares: the limits, the counters, and the
// checks and fixed headers built once at start(). Owned by the HttpServer, which outlives its
// connections. Read-only after start() except for the counters, which are thread-safe.
struct GuardConfig
{
    GuardConfig(const Limits &limits, std::atomic<int> *inflight, QList<QPair<QHostAddress, int>> trustedProxies)
        : limits(limits)
        , inflight(inflight)
        , clients(limits, std::move(trustedProxies))
    {
    }
    Q_DISABLE_COPY_MOVE(GuardConfig)

    HeadChecks headChecks() const
    {
        return HeadChecks {hosts ? &*hosts : nullptr, bodyLimits ? &*bodyLimits : nullptr};
    }

    const Limits limits;
    std::atomic<int> *const inflight; // dispatched requests without a response, across the server
    mutable ClientTable clients; // counts change; the configuration does not
    std::optional<BodyLimits> bodyLimits; // none: Limits::maxBodyBytes for every route
    std::optional<HostCheck> hosts; // none: no Host check
    Cors cors;
    QByteArray fixedHeaders; // on every response: securityHeaders() and Cors::fixedHeaders()
};

} // namespace Outpost::Http
