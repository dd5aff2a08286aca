#include "settingscontroller.h"

#include <QJsonDocument>
#include <QMutexLocker>

#include "../core/clock.h"
#include "../store/store.h"
#include "ratelimiter.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

constexpr int kMaxLimit = 1'000'000;
constexpr int kMaxWindow = 86'400;

Result<QByteArray> loadSetting(Store::Store &store, const char *key)
{
    QByteArray value;
    Status s = store.read([&](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT value FROM _settings WHERE key = ?");
        if (!select)
            return select.error();
        select->bind(1, QString::fromLatin1(key));
        auto row = select->step();
        if (!row)
            return row.error();
        if (*row)
            value = select->blob(0);
        return {};
    });
    if (!s)
        return s.error();
    return value;
}

} // namespace

SettingsController::SettingsController(RateLimiter &limiter, Store::Store &store, const Clock &clock,
                                       RateRules configRules, QThreadPool *pool)
    : m_limiter(limiter)
    , m_store(store)
    , m_clock(clock)
    , m_configRules(configRules)
    , m_pool(pool)
{
}

Status SettingsController::restore()
{
    auto saved = loadSetting(m_store, kRateLimitsKey);
    if (!saved)
        return saved.error();
    if (saved->isEmpty())
        return {};
    auto rules = RateRules::parse(QString::fromUtf8(*saved));
    if (!rules)
        return makeError(
            ErrorCode::Internal,
            QStringLiteral("the saved rate limits \"%1\" %2").arg(QString::fromUtf8(*saved), rules.error().message));
    QMutexLocker lock(&m_mutex);
    m_overridden = true;
    m_limiter.setRules(*rules);
    return {};
}

void SettingsController::registerRoutes(Router &router)
{
    const Policy policy = Policy::needs(Auth::Permission::SettingsManage);
    router.add(Method::Get, "/api/settings/rate-limits", policy,
               [this](const Request &, const Responder &r) { r.send(Response::json(stateJson())); });
    router.add(Method::Put, "/api/settings/rate-limits", policy,
               [this](const Request &q, const Responder &r) { put(q, r); });
    router.add(Method::Delete, "/api/settings/rate-limits", policy,
               [this](const Request &q, const Responder &r) { reset(q, r); });
}

QJsonObject SettingsController::groupsJson(const RateRules &rules)
{
    QJsonObject groups;
    for (int g = 0; g < kRateGroupCount; ++g) {
        const RateRule &rule = rules.groups[size_t(g)];
        groups.insert(rateGroupName(RateGroup(g)),
                      rule.enabled() ? QJsonValue(QJsonObject {{QStringLiteral("limit"), rule.limit},
                                                               {QStringLiteral("window"), rule.windowSeconds}})
                                     : QJsonValue(QJsonValue::Null));
    }
    return groups;
}

std::optional<RateRules> SettingsController::parseGroups(const QJsonValue &value, QJsonObject &fieldErrors)
{
    const auto fail = [&fieldErrors](const QString &field, const QString &message) {
        fieldErrors.insert(field,
                           QJsonObject {{QStringLiteral("code"), QStringLiteral("validation_invalid_value")},
                                        {QStringLiteral("message"), message}});
    };
    if (!value.isObject()) {
        fail(QStringLiteral("groups"), QStringLiteral("Must be an object with a rule (or null) per group."));
        return std::nullopt;
    }
    const QJsonObject groups = value.toObject();
    RateRules rules;
    for (auto it = groups.begin(); it != groups.end(); ++it) {
        int index = -1;
        for (int g = 0; g < kRateGroupCount; ++g)
            if (rateGroupName(RateGroup(g)) == it.key())
                index = g;
        const QString field = QStringLiteral("groups.") + it.key();
        if (index < 0) {
            fail(field, QStringLiteral("Unknown group (groups: auth, read, write, admin)."));
            continue;
        }
        if (it->isNull())
            continue; // off
        const QJsonObject rule = it->toObject();
        const QJsonValue limit = rule.value(QStringLiteral("limit"));
        const QJsonValue window = rule.value(QStringLiteral("window"));
        const auto whole = [](const QJsonValue &v, int max) {
            return v.isDouble() && v.toDouble() == double(v.toInt()) && v.toInt() >= 1 && v.toInt() <= max;
        };
        if (!it->isObject() || rule.size() != 2 || !whole(limit, kMaxLimit) || !whole(window, kMaxWindow)) {
            fail(field,
                 QStringLiteral("Must be null (off) or {\"limit\": 1-%1 requests, \"window\": 1-%2 seconds}.")
                     .arg(kMaxLimit)
                     .arg(kMaxWindow));
            continue;
        }
        rules.groups[size_t(index)] = {limit.toInt(), window.toInt()};
    }
    if (!fieldErrors.isEmpty())
        return std::nullopt;
    return rules;
}

QJsonObject SettingsController::stateJson() const
{
    // No lock: GET runs on a network thread, and a change holds the mutex across a store write.
    return {{QStringLiteral("groups"), groupsJson(m_limiter.rules())},
            {QStringLiteral("source"), m_overridden ? QStringLiteral("api") : QStringLiteral("config")},
            {QStringLiteral("config"), groupsJson(m_configRules)}};
}

Status SettingsController::save(const std::optional<RateRules> &rules)
{
    return m_store.write([&rules](Store::Database &db) -> Status {
        auto stmt = rules ? db.prepare("INSERT INTO _settings(key, value) VALUES (?, ?) "
                                       "ON CONFLICT(key) DO UPDATE SET value = excluded.value")
                          : db.prepare("DELETE FROM _settings WHERE key = ?");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, QString::fromLatin1(kRateLimitsKey));
        if (rules)
            stmt->bind(2, rules->toString().toUtf8());
        return stmt->run();
    });
}

void SettingsController::audit(const Request &request, const RateRules &before, const RateRules &after)
{
    m_store.auditLog().append(
        {.timeMs = m_clock.nowMs(),
         .actor = request.caller.label(),
         .action = QStringLiteral("settings.update"),
         .target = QStringLiteral("rate_limits"),
         .address = request.client.toString(),
         .success = true,
         .details = {{QStringLiteral("before"), groupsJson(before)}, {QStringLiteral("after"), groupsJson(after)}}});
}

void SettingsController::put(const Request &request, const Responder &responder)
{
    QJsonObject body;
    if (auto refused = parseJsonBody(request, body))
        return responder.send(std::move(*refused));
    QJsonObject fieldErrors;
    for (auto it = body.begin(); it != body.end(); ++it)
        if (it.key() != u"groups")
            fieldErrors.insert(it.key(),
                               QJsonObject {{QStringLiteral("code"), QStringLiteral("validation_unknown_field")},
                                            {QStringLiteral("message"), QStringLiteral("Unknown field.")}});
    const auto rules = parseGroups(body.value(QStringLiteral("groups")), fieldErrors);
    if (!rules || !fieldErrors.isEmpty())
        return responder.send(Response::problem(400, QStringLiteral("The rate limits are not valid."), fieldErrors));
    responder.runBlocking(m_pool, [this, request, rules = *rules] {
        QMutexLocker lock(&m_mutex);
        const RateRules before = m_limiter.rules();
        if (auto s = save(rules); !s)
            return Response::fromError(s.error());
        m_overridden = true;
        m_limiter.setRules(rules);
        audit(request, before, rules);
        lock.unlock();
        return Response::json(stateJson());
    });
}

void SettingsController::reset(const Request &request, const Responder &responder)
{
    responder.runBlocking(m_pool, [this, request] {
        QMutexLocker lock(&m_mutex);
        const RateRules before = m_limiter.rules();
        if (auto s = save(std::nullopt); !s)
            return Response::fromError(s.error());
        m_overridden = false;
        m_limiter.setRules(m_configRules);
        audit(request, before, m_configRules);
        lock.unlock();
        return Response::json(stateJson());
    });
}

} // namespace Outpost::Http
