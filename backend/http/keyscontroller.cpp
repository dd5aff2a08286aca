#include "keyscontroller.h"

#include <QJsonArray>
#include <algorithm>
#include <cmath>

#include "../auth/apikeys.h"
#include "../auth/keyformat.h"
#include "../data/fieldformats.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

Response fieldProblem(const QString &field, const QString &code, const QString &message)
{
    return Response::problem(
        400, QStringLiteral("Failed to validate the key."),
        QJsonObject {{field, QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}}}});
}

QStringList stringList(const QJsonValue &value, bool &ok)
{
    QStringList out;
    ok = value.isArray();
    for (const QJsonValue &v : value.toArray()) {
        ok = ok && v.isString();
        out.append(v.toString());
    }
    return out;
}

// expiresAt as PocketBase writes dates ("2026-12-01 00:00:00.000Z") or RFC 3339; null = none.
std::optional<Response> parseExpiry(const QJsonValue &value, std::optional<qint64> &out)
{
    out.reset();
    if (value.isNull() || value.isUndefined() || (value.isString() && value.toString().isEmpty()))
        return std::nullopt;
    const auto date = value.isString() ? Data::Formats::parseDate(value.toString()) : std::nullopt;
    if (!date)
        return fieldProblem(QStringLiteral("expiresAt"), QStringLiteral("validation_invalid_date"),
                            QStringLiteral("Must be a date such as \"2030-01-31 00:00:00.000Z\", or null."));
    out = date->toMSecsSinceEpoch();
    return std::nullopt;
}

Response forbidden(const QString &detail)
{
    return Response::problem(403, detail);
}

// Each requested scope must be one the manager holds, or a one-collection narrowing of one of its
// all-collection records scopes.
std::optional<Response> checkHeld(const Auth::ApiKey &manager, const QStringList &requested)
{
    if (const auto scope = manager.scopes.firstNotHeld(requested))
        return forbidden(
            QStringLiteral("An API key cannot grant the scope \"%1\", which it does not hold.").arg(*scope));
    return std::nullopt;
}

// A managed key may not outlive its manager: with the manager's expiry, `expires` must be set and
// no later (unset on create: it inherits the manager's).
std::optional<Response> checkExpiry(const Auth::ApiKey &manager, std::optional<qint64> &expires, bool inherit)
{
    if (!manager.expiresMs)
        return std::nullopt;
    if (!expires && inherit)
        expires = manager.expiresMs;
    if (!expires || *expires > *manager.expiresMs)
        return forbidden(QStringLiteral("An API key cannot give a key a later expiry than its own."));
    return std::nullopt;
}

// Nor reach from addresses its manager may not use: every range must lie inside one of the
// manager's (none given on create: it inherits the manager's).
std::optional<Response> checkCidrs(const Auth::ApiKey &manager, QStringList &cidrs, bool inherit)
{
    if (manager.allowedCidrs.isEmpty())
        return std::nullopt;
    if (cidrs.isEmpty() && inherit)
        cidrs = Auth::cidrStrings(manager.allowedCidrs);
    const QString refusal = QStringLiteral("An API key cannot allow addresses outside its own allowedCidrs.");
    if (cidrs.isEmpty())
        return forbidden(refusal);
    for (const QString &text : std::as_const(cidrs)) {
        const auto cidr = Auth::parseCidr(text);
        if (!cidr)
            continue; // the service reports the malformed range
        const bool inside = std::any_of(manager.allowedCidrs.begin(), manager.allowedCidrs.end(), [&](const auto &m) {
            return cidr->second >= m.second && cidr->first.isInSubnet(m);
        });
        if (!inside)
            return forbidden(refusal);
    }
    return std::nullopt;
}

// The managing key behind a request, when the caller is a key (on the pool: it reads).
Result<std::optional<Auth::ApiKey>> managerOf(const Auth::ApiKeys &keys, const Caller &caller)
{
    if (caller.kind != Caller::Kind::ApiKey)
        return std::optional<Auth::ApiKey>();
    auto self = keys.get(caller.id);
    if (!self)
        return self.error();
    return std::optional<Auth::ApiKey>(*self);
}

// For update, revoke and rotate by a key: it may only touch keys whose scopes it holds, and may not
// give them scopes, an expiry or addresses beyond its own (on the pool: it reads).
std::optional<Response> checkManaged(const Auth::ApiKeys &keys, const Caller &caller, const QString &id,
                                     const QJsonObject &changes = {})
{
    auto manager = managerOf(keys, caller);
    if (!manager)
        return Response::fromError(manager.error());
    if (!*manager)
        return std::nullopt;
    auto target = keys.get(id);
    if (!target)
        return Response::fromError(target.error());
    if (auto refused = checkHeld(**manager, target->scopes.toStrings()))
        return refused;
    bool ok = true;
    if (changes.contains(u"scopes"))
        if (auto refused = checkHeld(**manager, stringList(changes.value(u"scopes"), ok)))
            return refused;
    for (const QString &member : {QStringLiteral("expiresAt"), QStringLiteral("expires")}) {
        if (!changes.contains(member))
            continue;
        std::optional<qint64> expires;
        const QJsonValue value = changes.value(member);
        if (value.isDouble())
            expires = qint64(value.toDouble());
        else if (parseExpiry(value, expires))
            continue; // malformed: the service reports it
        if (auto refused = checkExpiry(**manager, expires, false))
            return refused;
    }
    if (changes.contains(u"allowedCidrs")) {
        QStringList cidrs = stringList(changes.value(u"allowedCidrs"), ok);
        if (auto refused = checkCidrs(**manager, cidrs, false))
            return refused;
    }
    return std::nullopt;
}

Response keyResponse(const Result<Auth::ApiKey> &key)
{
    return key ? Response::json(key->toJson()) : Response::fromError(key.error());
}

Response issuedResponse(const Result<Auth::IssuedKey> &issued, int status)
{
    if (!issued)
        return Response::fromError(issued.error());
    QJsonObject body = issued->key.toJson();
    body.insert(QStringLiteral("key"), issued->secret);
    Response response = Response::json(body, status);
    if (status == 201)
        response.withHeader("Location", "/api/keys/" + issued->key.id.toUtf8());
    return response;
}

} // namespace

KeysController::KeysController(Auth::ApiKeys &keys, QThreadPool *pool)
    : m_keys(keys)
    , m_pool(pool)
{
}

void KeysController::registerRoutes(Router &router) const
{
    const Policy manage = Policy::needs(Auth::Permission::KeysManage);
    router.add(Method::Post, "/api/keys", manage, [this](const Request &q, const Responder &r) { create(q, r); });
    router.add(Method::Get, "/api/keys", manage, [this](const Request &q, const Responder &r) { list(q, r); });
    router.add(Method::Get, "/api/keys/{id}", manage, [this](const Request &q, const Responder &r) { view(q, r); });
    router.add(Method::Patch, "/api/keys/{id}", manage, [this](const Request &q, const Responder &r) { update(q, r); });
    router.add(Method::Delete, "/api/keys/{id}", manage,
               [this](const Request &q, const Responder &r) { revoke(q, r); });
    router.add(Method::Post, "/api/keys/{id}/rotate", manage,
               [this](const Request &q, const Responder &r) { rotate(q, r); });
}

void KeysController::create(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    Auth::NewKey key;
    key.name = body.value(u"name").toString();
    bool ok = true;
    key.scopes = stringList(body.value(u"scopes"), ok);
    if (!ok)
        return responder.send(fieldProblem(QStringLiteral("scopes"), QStringLiteral("validation_invalid_scope"),
                                           QStringLiteral("Must be an array of scope strings.")));
    if (body.contains(u"allowedCidrs")) {
        key.allowedCidrs = stringList(body.value(u"allowedCidrs"), ok);
        if (!ok)
            return responder.send(fieldProblem(QStringLiteral("allowedCidrs"),
                                               QStringLiteral("validation_invalid_cidr"),
                                               QStringLiteral("Must be an array of CIDR strings.")));
    }
    if (auto bad = parseExpiry(body.value(u"expiresAt"), key.expiresMs))
        return responder.send(*bad);
    key.createdBy = request.caller.label();
    responder.runBlocking(m_pool, [this, key, caller = request.caller]() mutable {
        auto manager = managerOf(m_keys, caller);
        if (!manager)
            return Response::fromError(manager.error());
        if (*manager) {
            if (auto refused = checkHeld(**manager, key.scopes))
                return *refused;
            if (auto refused = checkExpiry(**manager, key.expiresMs, true))
                return *refused;
            if (auto refused = checkCidrs(**manager, key.allowedCidrs, true))
                return *refused;
        }
        return issuedResponse(m_keys.create(key), 201);
    });
}

void KeysController::list(const Request &, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this] {
        auto keys = m_keys.list();
        if (!keys)
            return Response::fromError(keys.error());
        QJsonArray items;
        for (const Auth::ApiKey &k : *keys)
            items.append(k.toJson());
        return Response::json(
            QJsonObject {{QStringLiteral("items"), items}, {QStringLiteral("totalItems"), items.size()}});
    });
}

void KeysController::view(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this, id = request.params.value(0)] { return keyResponse(m_keys.get(id)); });
}

void KeysController::update(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    if (body.contains(u"scopes")) {
        bool ok = true;
        stringList(body.value(u"scopes"), ok);
        if (!ok)
            return responder.send(fieldProblem(QStringLiteral("scopes"), QStringLiteral("validation_invalid_scope"),
                                               QStringLiteral("Must be an array of scope strings.")));
    }
    responder.runBlocking(m_pool, [this, id = request.params.value(0), body, caller = request.caller] {
        if (auto refused = checkManaged(m_keys, caller, id, body))
            return *refused;
        return keyResponse(m_keys.update(id, body, caller.label()));
    });
}

void KeysController::revoke(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this, id = request.params.value(0), caller = request.caller] {
        if (auto refused = checkManaged(m_keys, caller, id))
            return *refused;
        auto revoked = m_keys.revoke(id, caller.label());
        return revoked ? Response::empty(204) : Response::fromError(revoked.error());
    });
}

void KeysController::rotate(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (!request.body.trimmed().isEmpty())
        if (auto bad = parseJsonBody(request, body))
            return responder.send(*bad);
    constexpr double kMaxGrace = 7 * 24 * 3600;
    const QJsonValue grace = body.value(u"graceSeconds");
    const double seconds = grace.toDouble();
    if (!grace.isUndefined() && !grace.isNull()
        && (!grace.isDouble() || seconds < 0 || seconds > kMaxGrace || seconds != std::trunc(seconds)))
        return responder.send(fieldProblem(QStringLiteral("graceSeconds"), QStringLiteral("validation_invalid_number"),
                                           QStringLiteral("Must be a whole number of seconds from 0 to 604800.")));
    responder.runBlocking(m_pool,
                          [this, id = request.params.value(0), seconds = qint64(seconds), caller = request.caller] {
                              if (auto refused = checkManaged(m_keys, caller, id))
                                  return *refused;
                              return issuedResponse(m_keys.rotate(id, seconds, caller.label()), 200);
                          });
}

} // namespace Outpost::Http
