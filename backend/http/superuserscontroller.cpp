#include "superuserscontroller.h"

#include "../auth/superusers.h"
#include "../store/store.h"
#include "clientaddress.h"
#include "listing.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

constexpr int kDefaultPerPage = 30;
constexpr int kMaxPerPage = 500; // PocketBase's cap

const QByteArray kRecords = "/api/collections/" + QByteArray(Auth::Superusers::kCollectionName) + "/records";

// Filters and sorts over the columns a superuser record shows, and nothing else (never the hash or
// the token key).
class AccountFieldResolver final : public Data::FieldResolver
{
public:
    Result<Data::ResolvedField> resolve(const QStringList &path) const override
    {
        static const QStringList columns {QStringLiteral("id"), QStringLiteral("email"), QStringLiteral("role"),
                                          QStringLiteral("created"), QStringLiteral("updated")};
        if (path.size() != 1 || !columns.contains(path.first()))
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field \"%1\"").arg(path.join(u'.')));
        return Data::ResolvedField {Data::quoteIdentifier(path.first()).value(), false};
    }
};

QJsonValue accountEntry(const Store::Statement &row)
{
    Auth::Superuser user;
    user.id = row.text(0);
    user.email = row.text(1);
    user.created = row.text(2);
    user.updated = row.text(3);
    user.role = Auth::parseRole(row.text(4)).value_or(Auth::Role::Viewer);
    return user.toRecord();
}

QJsonObject fieldError(const QString &code, const QString &message)
{
    return QJsonObject {{QStringLiteral("code"), code}, {QStringLiteral("message"), message}};
}

QJsonObject required()
{
    return fieldError(QStringLiteral("validation_required"), QStringLiteral("Cannot be blank."));
}

// A string member of the body; nullopt when it is absent or null (on create, also when blank: then
// it is reported as required). A value of another type is reported and left out.
std::optional<QString> stringMember(const QJsonObject &body, const QString &name, bool creating, QJsonObject &fields)
{
    const QJsonValue value = body.value(name);
    if (value.isString() && !(creating && value.toString().trimmed().isEmpty()))
        return value.toString();
    if (!value.isUndefined() && !value.isNull() && !value.isString())
        fields.insert(name, fieldError(QStringLiteral("validation_invalid_type"), QStringLiteral("Must be a string.")));
    else if (creating)
        fields.insert(name, required());
    return std::nullopt;
}

// The body of a create or update as changes. Every problem goes into `fields`, with those of the
// service's own checks (email, password), so that the answer names them all at once. On update a
// blank password means "unchanged", as forms send it.
Auth::SuperuserChanges readChanges(const QJsonObject &body, bool creating, QJsonObject &fields)
{
    Auth::SuperuserChanges changes;
    changes.email = stringMember(body, QStringLiteral("email"), creating, fields);
    if (auto password = stringMember(body, QStringLiteral("password"), creating, fields);
        password && !password->isEmpty()) {
        changes.password = password->toUtf8();
        const QJsonValue confirm = body.value(u"passwordConfirm");
        if (!confirm.isString() || confirm.toString().isEmpty())
            fields.insert(QStringLiteral("passwordConfirm"), required());
        else if (confirm.toString() != *password)
            fields.insert(
                QStringLiteral("passwordConfirm"),
                fieldError(QStringLiteral("validation_values_mismatch"), QStringLiteral("Values don't match.")));
    }
    if (auto role = stringMember(body, QStringLiteral("role"), creating, fields)) {
        changes.role = Auth::parseRole(role->trimmed());
        if (!changes.role)
            fields.insert(QStringLiteral("role"),
                          fieldError(QStringLiteral("validation_invalid_value"),
                                     QStringLiteral("Must be one of owner, admin, editor, viewer.")));
    }
    const QJsonObject checked = Auth::Superusers::inputProblems(changes.email, changes.password);
    for (auto it = checked.begin(); it != checked.end(); ++it)
        if (!fields.contains(it.key()))
            fields.insert(it.key(), it.value());
    return changes;
}

// The caller as the accounts service sees it: an API key with accounts:manage acts as an admin
// (it may not touch owners), whoever made it.
Auth::AccountActor actorOf(const Request &request, const QList<QPair<QHostAddress, int>> &trustedProxies)
{
    const Caller &caller = request.caller;
    return Auth::AccountActor {caller.label(), caller.kind == Caller::Kind::Superuser ? caller.role : Auth::Role::Admin,
                               clientAddress(request, trustedProxies).toString()};
}

Response recordResponse(const Result<Auth::Superuser> &user)
{
    return user ? Response::json(user->toRecord()) : Response::fromError(user.error());
}

} // namespace

SuperusersController::SuperusersController(Auth::Superusers &superusers, Store::Store &store, const Clock &clock,
                                           QList<QPair<QHostAddress, int>> trustedProxies, QThreadPool *pool)
    : m_superusers(superusers)
    , m_store(store)
    , m_clock(clock)
    , m_trustedProxies(std::move(trustedProxies))
    , m_pool(pool)
{
}

void SuperusersController::registerRoutes(Router &router) const
{
    const Policy manage = Policy::needs(Auth::Permission::AccountsManage);
    const QByteArray one = kRecords + "/{id}";
    router.add(Method::Get, kRecords, manage, [this](const Request &q, const Responder &r) { list(q, r); });
    router.add(Method::Post, kRecords, manage, [this](const Request &q, const Responder &r) { create(q, r); });
    router.add(Method::Get, one, manage, [this](const Request &q, const Responder &r) { view(q, r); });
    router.add(Method::Patch, one, manage, [this](const Request &q, const Responder &r) { update(q, r); });
    router.add(Method::Delete, one, manage, [this](const Request &q, const Responder &r) { remove(q, r); });
}

void SuperusersController::list(const Request &request, const Responder &responder) const
{
    ListParams params;
    if (auto bad = parseListParams(request, kDefaultPerPage, kMaxPerPage, params))
        return responder.send(*bad);
    responder.runBlocking(m_pool, [this, params, context = contextFor(request, m_clock).access.context] {
        static const AccountFieldResolver resolver;
        const TableListing listing {
            .columns = QStringLiteral("id, email, created, updated, role"),
            .table = QStringLiteral("_superusers"),
            .resolver = &resolver,
            .defaultSort = QStringLiteral("created"),
            .tieBreak = QStringLiteral("id"),
            .item = accountEntry,
        };
        Result<QJsonObject> page = QJsonObject();
        const Status read = m_store.read([&](Store::Database &db) -> Status {
            page = listTable(db, listing, params, context);
            return page ? Status() : Status(page.error());
        });
        return read ? Response::json(*page) : Response::fromError(read.error());
    });
}

void SuperusersController::view(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool,
                          [this, id = request.params.value(0)] { return recordResponse(m_superusers.find(id)); });
}

void SuperusersController::create(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    QJsonObject fields;
    const Auth::SuperuserChanges input = readChanges(body, true, fields);
    if (!fields.isEmpty())
        return responder.send(Response::problem(400, QStringLiteral("Failed to create record."), fields));
    responder.runBlocking(m_pool, [this, input, actor = actorOf(request, m_trustedProxies)] {
        return recordResponse(m_superusers.create(*input.email, *input.password, *input.role, actor));
    });
}

void SuperusersController::update(const Request &request, const Responder &responder) const
{
    QJsonObject body;
    if (auto bad = parseJsonBody(request, body))
        return responder.send(*bad);
    QJsonObject fields;
    const Auth::SuperuserChanges changes = readChanges(body, false, fields);
    if (!fields.isEmpty())
        return responder.send(Response::problem(400, QStringLiteral("Failed to update record."), fields));
    responder.runBlocking(m_pool,
                          [this, id = request.params.value(0), changes, actor = actorOf(request, m_trustedProxies)] {
                              return recordResponse(m_superusers.update(id, changes, actor));
                          });
}

void SuperusersController::remove(const Request &request, const Responder &responder) const
{
    responder.runBlocking(m_pool, [this, id = request.params.value(0), actor = actorOf(request, m_trustedProxies)] {
        auto removed = m_superusers.remove(id, actor);
        return removed ? Response::empty(204) : Response::fromError(removed.error());
    });
}

} // namespace Outpost::Http
