#pragma once

#include "../core/clock.h"
#include "router.h"

namespace Outpost::Http {

// GET /api/health: liveness and a database check (a real read through the network thread's
// connection, at most once a second per thread), for load balancers and scripts.
class HealthController
{
public:
    HealthController(const Clock &clock, qint64 startedMs);
    void registerRoutes(Router &router) const;

private:
    const Clock &m_clock;
    qint64 m_startedMs;
};

} // namespace Outpost::Http
