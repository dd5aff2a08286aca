#include "transfercontroller.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QLocale>
#include <QStringDecoder>
#include <QThreadPool>
#include <cmath>
#include <utility>

#include "../data/collections.h"
#include "../data/csv.h"
#include "../data/fieldvalidation.h"
#include "../data/filter.h"
#include "../data/records.h"
#include "../store/store.h"
#include "clientaddress.h"
#include "requestcontext.h"

namespace Outpost::Http {

namespace {

using Data::Collection;
using Data::Field;
using Data::FieldType;

constexpr qsizetype kPieceBytes = 32 * 1024; // what an export hands the connection at a time
constexpr int kMaxReportedRows = 1000; // failing rows listed in an import's answer; the rest are counted

// Keys of an exported JSON record that are not fields; an import ignores them (as CSV columns too).
bool isEnvelopeKey(const QString &key)
{
    return key == u"collectionId" || key == u"collectionName" || key == u"expand";
}

int fieldIndex(const Collection &c, const QString &name)
{
    for (qsizetype i = 0; i < c.fields.size(); ++i)
        if (c.fields[i].name.compare(name, Qt::CaseInsensitive) == 0)
            return int(i);
    return -1;
}

QString jsonText(const QJsonValue &value)
{
    // QJsonDocument holds only arrays and objects: wrap the value, then unwrap the text.
    const QByteArray wrapped = QJsonDocument(QJsonArray {value}).toJson(QJsonDocument::Compact);
    return QString::fromUtf8(wrapped.mid(1, wrapped.size() - 2));
}

// A record value as a CSV cell: numbers and bools as literals (integers without an exponent);
// multiple select/relation and json values as JSON text, a json null as an empty cell.
QString cellText(const Field &f, const QJsonValue &v)
{
    if (f.type == FieldType::Json)
        return v.isNull() || v.isUndefined() ? QString() : jsonText(v);
    if (v.isArray())
        return jsonText(v);
    if (v.isBool())
        return v.toBool() ? QStringLiteral("true") : QStringLiteral("false");
    if (v.isDouble()) {
        const double d = v.toDouble();
        if (std::trunc(d) == d && std::abs(d) < 9007199254740992.0) // 2^53: exact as an integer
            return QString::number(qint64(d));
        return QString::number(d, 'g', QLocale::FloatingPointShortest);
    }
    return v.toString();
}

bool isUtf8(QByteArrayView data)
{
    QStringDecoder decoder(QStringDecoder::Utf8);
    constexpr qsizetype kSlice = 64 * 1024; // validates without a second copy of a large body
    for (qsizetype at = 0; at < data.size() && !decoder.hasError(); at += kSlice)
        (void)QString(decoder.decode(data.sliced(at, qMin(kSlice, data.size() - at))));
    return !decoder.hasError();
}

Response badImport(const QString &detail, const QJsonObject &fields = {})
{
    return Response::problem(400, detail, fields);
}

// An import's rows, checked for shape: every CSV column or JSON key names a field (or is ignored),
// every CSV record has the header's number of cells.
struct ImportInput
{
    bool csv = true;
    QByteArray body; // CSV
    QList<int> columns; // CSV: the field index of each column, -1 for an ignored one
    QJsonArray items; // JSON
    int rows = 0;
};

std::optional<Response> tooManyRows(int rows)
{
    if (rows <= TransferController::kMaxImportRows)
        return std::nullopt;
    return badImport(QStringLiteral("An import holds at most %1 rows.").arg(TransferController::kMaxImportRows));
}

std::optional<Response> readCsv(const Collection &c, ImportInput &in)
{
    if (!isUtf8(in.body))
        return badImport(QStringLiteral("The CSV is not valid UTF-8."));
    Data::CsvReader reader(in.body);
    QStringList cells;
    const Data::CsvReader::Next header = reader.next(cells);
    if (header == Data::CsvReader::Next::End)
        return badImport(QStringLiteral("The CSV is empty: it needs a header row of field names."));
    if (header == Data::CsvReader::Next::Error)
        return badImport(QStringLiteral("Malformed CSV: %1.").arg(reader.errorString()));
    for (const QString &name : std::as_const(cells)) {
        const int index = fieldIndex(c, name);
        if (index < 0 && !isEnvelopeKey(name))
            return badImport(
                QStringLiteral("Unknown column \"%1\": the collection \"%2\" has no such field.").arg(name, c.name),
                QJsonObject {{name,
                              Data::fieldProblem(QStringLiteral("validation_unknown_field"),
                                                 QStringLiteral("Not a field of the collection."))}});
        if (index >= 0 && in.columns.contains(index))
            return badImport(QStringLiteral("The column \"%1\" appears twice.").arg(name));
        in.columns.append(index);
    }
    for (;;) {
        switch (reader.next(cells)) {
        case Data::CsvReader::Next::End:
            return std::nullopt;
        case Data::CsvReader::Next::Error:
            return badImport(QStringLiteral("Malformed CSV: %1.").arg(reader.errorString()));
        case Data::CsvReader::Next::Record:
            if (cells.size() != in.columns.size())
                return badImport(QStringLiteral("Malformed CSV: line %1: %2 fields where the header has %3.")
                                     .arg(reader.line())
                                     .arg(cells.size())
                                     .arg(in.columns.size()));
            if (auto bad = tooManyRows(++in.rows))
                return bad;
        }
    }
}

std::optional<Response> readJson(const Collection &c, const QByteArray &body, ImportInput &in)
{
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError)
        return badImport(QStringLiteral("The request body is not valid JSON: %1 at offset %2.")
                             .arg(error.errorString())
                             .arg(error.offset));
    if (!doc.isArray())
        return badImport(QStringLiteral("The request body must be a JSON array of records."));
    in.items = doc.array();
    in.rows = int(qMin<qsizetype>(in.items.size(), TransferController::kMaxImportRows + 1));
    if (auto bad = tooManyRows(in.rows))
        return bad;
    for (qsizetype i = 0; i < in.items.size(); ++i) {
        if (!in.items[i].isObject())
            return badImport(QStringLiteral("Row %1 is not a JSON object.").arg(i + 1));
        const QJsonObject item = in.items[i].toObject();
        for (auto it = item.begin(); it != item.end(); ++it)
            if (fieldIndex(c, it.key()) < 0 && !isEnvelopeKey(it.key()))
                return badImport(QStringLiteral("Row %1: unknown field \"%2\".").arg(i + 1).arg(it.key()));
    }
    return std::nullopt;
}

// A CSV cell as the value a JSON body would carry, so that validation and the create rule's
// @request.body see typed values: cells are text, like form values, so json fields parse it as JSON
// text, numbers and bools take their literals, and multiple select/relation fields take a JSON array
// (or one value). Text that is none of these stays text, for validation to report.
Result<QJsonValue> cellValue(const Field &f, const QString &cell)
{
    if (f.type == FieldType::Json)
        return Data::validateValue(f, cell, Data::InputSource::FormData);
    if (f.type == FieldType::Number && !cell.trimmed().isEmpty()) {
        bool ok = false;
        const double n = cell.trimmed().toDouble(&ok);
        return ok ? QJsonValue(n) : QJsonValue(cell);
    }
    if (f.type == FieldType::Bool && (cell == u"true" || cell == u"false" || cell == u"1" || cell == u"0"))
        return QJsonValue(cell == u"true" || cell == u"1");
    if (!f.isMultiple() || !cell.trimmed().startsWith(u'['))
        return QJsonValue(cell);
    const QJsonDocument doc = QJsonDocument::fromJson(cell.toUtf8());
    if (!doc.isArray())
        return Data::collectionError(
            QStringLiteral("Failed to create record."),
            QJsonObject {{f.name,
                          Data::fieldProblem(QStringLiteral("validation_invalid_value"),
                                             QStringLiteral("Must be a JSON array of strings."))}});
    return QJsonValue(doc.array());
}

Result<QJsonObject> csvRecord(const Collection &c, const QList<int> &columns, const QStringList &cells)
{
    QJsonObject values;
    QJsonObject problems;
    for (qsizetype i = 0; i < columns.size(); ++i) {
        if (columns[i] < 0)
            continue;
        const Field &f = c.fields[columns[i]];
        const auto value = cellValue(f, cells[i]);
        if (value)
            values.insert(f.name, *value);
        else
            problems.insert(f.name, value.error().details.value(QStringLiteral("fields"))[f.name]);
    }
    if (!problems.isEmpty())
        return Data::collectionError(QStringLiteral("Failed to create record."), problems);
    return values;
}

QJsonObject jsonRecord(const Collection &c, const QJsonObject &item)
{
    QJsonObject values;
    for (auto it = item.begin(); it != item.end(); ++it)
        if (const int index = fieldIndex(c, it.key()); index >= 0)
            values.insert(c.fields[index].name, it.value()); // field names are matched case-insensitively
    return values;
}

// Calls fn(row, values) for every row, numbered from 1, until it returns false.
template <typename Fn> void forEachRow(const ImportInput &in, const Collection &c, Fn fn)
{
    if (!in.csv) {
        for (qsizetype i = 0; i < in.items.size(); ++i)
            if (!fn(int(i) + 1, Result<QJsonObject>(jsonRecord(c, in.items[i].toObject()))))
                return;
        return;
    }
    Data::CsvReader reader(in.body);
    QStringList cells;
    (void)reader.next(cells); // the header, read before
    for (int row = 1; reader.next(cells) == Data::CsvReader::Next::Record; ++row)
        if (!fn(row, csvRecord(c, in.columns, cells)))
            return;
}

} // namespace

TransferController::TransferController(Data::Collections &collections, const Data::Records &records,
                                       Store::Store &store, const Clock &clock, QThreadPool *blockingPool,
                                       QList<QPair<QHostAddress, int>> trustedProxies)
    : m_collections(collections)
    , m_records(records)
    , m_store(store)
    , m_clock(clock)
    , m_blockingPool(blockingPool)
    , m_trustedProxies(std::move(trustedProxies))
    , m_exportPool(std::make_unique<QThreadPool>())
{
    m_exportPool->setMaxThreadCount(kMaxConcurrentExports);
    m_exportPool->setObjectName(QStringLiteral("outpost-export"));
}

TransferController::~TransferController()
{
    m_exportPool->waitForDone(); // producers read through m_store and m_records
}

void TransferController::registerRoutes(Router &router) const
{
    router.add(Method::Get, "/api/collections/{c}/export", Policy::rules(Auth::Permission::RecordsRead),
               [this](const Request &q, const Responder &r) { exportRecords(q, r); });
    router.add(Method::Post, "/api/collections/{c}/import", Policy::rules(Auth::Permission::RecordsWrite),
               [this](const Request &q, const Responder &r) { importRecords(q, r); });
}

namespace {

struct ExportJob
{
    Data::CollectionSnapshot set;
    Collection collection;
    QList<Field> columns; // CSV: the fields the caller sees, in schema order
    QString filter;
    QString sort;
    Data::Access access;
    bool csv = true;
};

// The header (record == nullptr: the field names) or a record's row.
void appendCsvRow(Data::CsvWriter &csv, const QList<Field> &columns, const QJsonObject *record)
{
    for (const Field &f : columns)
        csv.addField(record ? cellText(f, record->value(f.name)) : f.name);
    csv.endRecord();
}

// Runs on an export thread. Rows are serialised into pieces of about kPieceBytes; write() blocks
// while the client is behind and fails once it is gone, which ends forEach() and so releases the
// statement and its read transaction.
Status writeExport(const Data::Records &records, Store::Store &store, const ExportJob &job, BodyWriter &writer)
{
    QByteArray piece;
    piece.reserve(kPieceBytes + 4096);
    Data::CsvWriter csv(piece);
    if (job.csv)
        appendCsvRow(csv, job.columns, nullptr);
    else
        piece.append('[');
    bool first = true;
    bool open = true;
    const Status status = store.read([&](Store::Database &db) {
        return records.forEach(db, *job.set, job.collection, job.filter, job.sort, job.access,
                               [&](const QJsonObject &record) {
                                   if (job.csv) {
                                       appendCsvRow(csv, job.columns, &record);
                                   } else {
                                       piece.append(first ? "\n" : ",\n");
                                       piece.append(QJsonDocument(record).toJson(QJsonDocument::Compact));
                                   }
                                   first = false;
                                   if (piece.size() < kPieceBytes)
                                       return true;
                                   open = writer.write(std::exchange(piece, QByteArray()));
                                   piece.reserve(kPieceBytes + 4096);
                                   return open;
                               });
    });
    if (!status || !open)
        return status;
    if (!job.csv)
        piece.append(first ? "]\n" : "\n]\n");
    writer.write(std::move(piece));
    return {};
}

} // namespace

void TransferController::exportRecords(const Request &request, const Responder &responder) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsRead,
                                     &Collection::listRule);
    if (!route)
        return;
    const QString format
        = request.query.queryItemValue(QStringLiteral("format"), QUrl::FullyDecoded).trimmed().toLower();
    if (!format.isEmpty() && format != u"csv" && format != u"json")
        return responder.send(
            Response::problem(400, QStringLiteral("Unknown format \"%1\": use csv or json.").arg(format)));
    const Data::CollectionSnapshot &snapshot = route->snapshot;
    const Collection *c = route->collection;
    const RequestContext &context = route->context;

    auto job = std::make_shared<ExportJob>();
    job->set = snapshot;
    job->collection = *c;
    job->csv = format != u"json";
    for (const Field &f : c->fields)
        if (!f.isSecret() && (!f.hidden || context.access.superuser))
            job->columns.append(f);
    job->filter = request.query.queryItemValue(QStringLiteral("filter"), QUrl::FullyDecoded);
    job->sort = request.query.queryItemValue(QStringLiteral("sort"), QUrl::FullyDecoded);
    job->access = context.access;

    // Collection names are identifiers ([A-Za-z_][A-Za-z0-9_]*): safe inside the quoted filename.
    Response head {200, job->csv ? "text/csv; charset=utf-8" : "application/json", {}, {}};
    head.withHeader("Content-Disposition",
                    "attachment; filename=\"" + c->name.toUtf8() + (job->csv ? ".csv\"" : ".json\""));
    head.withHeader("Cache-Control", "no-store");
    responder.stream(m_exportPool.get(), std::move(head),
                     [this, job](BodyWriter &writer) { return writeExport(m_records, m_store, *job, writer); });
}

namespace {

struct ImportJob
{
    Data::CollectionSnapshot set;
    Collection collection;
    Data::Access access;
    bool abortOnError = true;
    ImportInput input;
};

struct ImportOutcome
{
    int imported = 0;
    int failed = 0;
    QString firstId, lastId; // of the rows stored, for the audit entry
    bool rolledBack = false; // abort mode and some row failed
    QJsonObject rows; // row -> {field: {code, message}}
    QJsonArray errors; // [{row, message, data}]
};

// Validation, unique and relation failures belong to the row; anything else ends the import.
bool isRowError(const Error &e)
{
    return e.code == ErrorCode::InvalidArgument || e.code == ErrorCode::Conflict || e.code == ErrorCode::AlreadyExists
        || e.code == ErrorCode::NotFound;
}

void recordFailure(ImportOutcome &out, int row, const Error &e)
{
    if (++out.failed > kMaxReportedRows)
        return;
    const QJsonObject fields = e.details.value(QStringLiteral("fields")).toObject();
    QStringList parts;
    for (auto it = fields.begin(); it != fields.end(); ++it)
        parts.append(it.key() + QStringLiteral(": ") + it.value()[QStringLiteral("message")].toString());
    const QString message = parts.isEmpty() ? e.message : parts.join(QStringLiteral("; "));
    out.rows.insert(QString::number(row), fields);
    out.errors.append(QJsonObject {
        {QStringLiteral("row"), row}, {QStringLiteral("message"), message}, {QStringLiteral("data"), fields}});
}

// Records::create() stamps created/updated with the current time; a superuser's import keeps the
// values given, so that an exported collection imports back unchanged.
Status keepAutoDates(Store::Database &db, const Collection &c, const QJsonObject &values, const QString &id)
{
    QStringList assignments;
    QVariantList params;
    QJsonObject problems;
    for (const Field &f : c.fields) {
        if (f.type != FieldType::AutoDate || Data::isBlank(values.value(f.name)))
            continue;
        const auto date = Data::validateValue(f, values.value(f.name));
        if (!date) {
            problems.insert(f.name, date.error().details.value(QStringLiteral("fields"))[f.name]);
            continue;
        }
        assignments.append(Data::quoteIdentifier(f.name).value() + QStringLiteral(" = ?"));
        params.append(date->toString());
    }
    if (!problems.isEmpty())
        return Data::collectionError(QStringLiteral("Failed to create record."), problems);
    if (assignments.isEmpty())
        return {};
    auto s = db.cachedQuery(QStringLiteral("UPDATE %1 SET %2 WHERE \"id\" = ?")
                                .arg(Data::quoteIdentifier(c.name).value(), assignments.join(u',')));
    if (!s)
        return s.error();
    params.append(id);
    for (qsizetype i = 0; i < params.size(); ++i)
        (*s)->bind(int(i) + 1, params[i]);
    const Status status = (*s)->run();
    (*s)->reset();
    return status;
}

// One row in its own savepoint: Records::create() can fail after its INSERT (on the create rule),
// and a failed row must leave nothing behind.
Status importRow(Store::Database &db, const Data::Records &records, const ImportJob &job, const QJsonObject &values,
                 QString &id)
{
    if (auto s = db.exec("SAVEPOINT outpost_import_row"); !s)
        return s;
    Data::Access access = job.access;
    access.context.body = values; // @request.body.* in the create rule
    auto created = records.create(db, *job.set, job.collection, values, {}, access);
    Status status = created ? Status() : Status(created.error());
    if (status && access.superuser)
        status = keepAutoDates(db, job.collection, values, created->value(u"id").toString());
    if (status) {
        id = created->value(u"id").toString();
        return db.exec("RELEASE outpost_import_row");
    }
    if (!db.exec("ROLLBACK TO outpost_import_row") || !db.exec("RELEASE outpost_import_row"))
        return makeError(ErrorCode::Unavailable, QStringLiteral("The import's transaction was lost."));
    return status;
}

Status runImport(Store::Database &db, const Data::Records &records, const ImportJob &job, ImportOutcome &out)
{
    Status fatal;
    forEachRow(job.input, job.collection, [&](int row, const Result<QJsonObject> &values) {
        QString id;
        const Status s = values ? importRow(db, records, job, *values, id) : Status(values.error());
        if (s) {
            if (++out.imported == 1)
                out.firstId = id;
            out.lastId = id;
            return true;
        }
        if (!isRowError(s.error())) {
            fatal = s;
            return false;
        }
        recordFailure(out, row, s.error());
        return true;
    });
    if (!fatal)
        return fatal;
    if (out.failed > 0 && job.abortOnError) {
        out.rolledBack = true;
        return makeError(ErrorCode::InvalidArgument, QStringLiteral("rows failed")); // rolls every row back
    }
    return {};
}

// One entry for the whole import: an entry per row would hold up to kMaxImportRows records at once.
Store::AuditEntry importEntry(const ImportJob &job, const ImportOutcome &out, const Store::AuditActor &actor,
                              qint64 timeMs)
{
    return {.timeMs = timeMs,
            .actor = actor.label,
            .action = QStringLiteral("record.import"),
            .target = job.collection.name,
            .address = actor.address,
            .success = true,
            .details = QJsonObject {
                {QStringLiteral("collection"), job.collection.name},
                {QStringLiteral("count"), out.imported},
                {QStringLiteral("failed"), out.failed},
                {QStringLiteral("firstId"), out.firstId},
                {QStringLiteral("lastId"), out.lastId},
                {QStringLiteral("onError"), job.abortOnError ? QStringLiteral("abort") : QStringLiteral("skip")}}};
}

Response importResponse(const ImportJob &job, const ImportOutcome &out, const Status &status)
{
    const QString listed = out.failed > kMaxReportedRows
        ? QStringLiteral(" (the first %1 are listed)").arg(kMaxReportedRows)
        : QString();
    if (status)
        return Response::json(QJsonObject {{QStringLiteral("imported"), out.imported},
                                           {QStringLiteral("failed"), out.failed},
                                           {QStringLiteral("errors"), out.errors}});
    if (!out.rolledBack)
        return Response::fromError(status.error());
    const QString detail = QStringLiteral("%1 of %2 rows failed; nothing was imported%3.")
                               .arg(out.failed)
                               .arg(job.input.rows)
                               .arg(listed);
    // Response::problem() would list `data`'s keys as field errors; the rows get their own list.
    const QJsonObject body {{QStringLiteral("type"), QStringLiteral("about:blank")},
                            {QStringLiteral("title"), QString::fromLatin1(reasonPhrase(400))},
                            {QStringLiteral("status"), 400},
                            {QStringLiteral("detail"), detail},
                            {QStringLiteral("message"), detail},
                            {QStringLiteral("data"), QJsonObject {{QStringLiteral("rows"), out.rows}}},
                            {QStringLiteral("errors"), out.errors}};
    return Response {400, "application/problem+json", QJsonDocument(body).toJson(QJsonDocument::Compact), {}};
}

} // namespace

void TransferController::importRecords(const Request &request, const Responder &responder) const
{
    auto route = openCollectionRoute(m_collections, m_clock, request, responder, Auth::Permission::RecordsWrite,
                                     &Collection::createRule);
    if (!route)
        return;
    const Data::CollectionSnapshot &snapshot = route->snapshot;
    const Collection *c = route->collection;
    const RequestContext &context = route->context;
    // Every account needs its password hashed and checked against the password rules, one by one.
    if (c->type == u"auth")
        return responder.send(Response::problem(
            400, QStringLiteral("Auth collections cannot be imported: create accounts through the record API.")));
    const QString onError = request.query.queryItemValue(QStringLiteral("onError"), QUrl::FullyDecoded).trimmed();
    if (!onError.isEmpty() && onError != u"abort" && onError != u"skip")
        return responder.send(
            Response::problem(400, QStringLiteral("Unknown onError \"%1\": use abort or skip.").arg(onError)));
    const QByteArray type = request.header("content-type").trimmed().toLower();
    const bool csv = type.startsWith("text/csv");
    if (!csv && !type.startsWith("application/json"))
        return responder.send(
            Response::problem(415,
                              QStringLiteral("Unsupported Content-Type \"%1\": send text/csv or application/json.")
                                  .arg(QString::fromLatin1(type))));

    auto job = std::make_shared<ImportJob>();
    job->set = snapshot;
    job->collection = *c;
    job->access = context.access;
    job->abortOnError = onError != u"skip";
    job->input.csv = csv;
    // Parsing a body of up to maxBodyBytes takes a while: not on the network thread.
    m_blockingPool->start([this, job, body = request.body, responder, actor = auditActor(request, m_trustedProxies)] {
        if (job->input.csv)
            job->input.body = body;
        if (auto bad
            = job->input.csv ? readCsv(job->collection, job->input) : readJson(job->collection, body, job->input))
            return responder.post(*bad);
        auto outcome = std::make_shared<ImportOutcome>();
        m_store.submitWrite(
            [this, job, outcome](Store::Database &db) { return runImport(db, m_records, *job, *outcome); },
            [this, job, outcome, responder, actor](const Status &status) {
                if (status && outcome->imported > 0)
                    m_store.auditLog().append(importEntry(*job, *outcome, actor, m_clock.nowMs()));
                responder.post(importResponse(*job, *outcome, status));
            });
    });
}

} // namespace Outpost::Http
