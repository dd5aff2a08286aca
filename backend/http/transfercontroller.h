#pragma once

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <memory>

#include "requestcontext.h"

class QThreadPool;

namespace Outpost::Store {
class Store;
}

namespace Outpost::Http {

// Bulk transfer of a base collection's records:
//   GET  /api/collections/{c}/export?format=csv|json[&filter=...&sort=...]
//        Every record the caller may list (the listRule; superusers see everything, hidden fields
//        included), streamed: CSV (RFC 4180, header row of field names in schema order; multiple
//        select/relation and json values as JSON text) or a JSON array of records. Default csv.
//   POST /api/collections/{c}/import[?onError=abort|skip]
//        A CSV body (text/csv, header row of field names) or a JSON array of objects
//        (application/json), each row created as by POST .../records (createRule, validation,
//        unique indexes, relations). CSV cells are read like form values; superusers also keep
//        the created/updated values given (so that an export imports back unchanged). abort
//        (default): all rows in one transaction or none, 400 with every failing row; skip: the good
//        rows are stored, 200 {imported, failed, errors}.
//        An import that stored rows is audited as one entry, not one per row (an import holds up to
//        kMaxImportRows): action record.import, target the collection's name, details {collection,
//        count, failed, firstId, lastId, onError}, with the caller's label and client address (as
//        `trustedProxies` resolve it). One that stored nothing (rolled back) is not audited.
//
// Exports stream (Responder::stream) from a pooled reader on a thread pool of their own
// (kMaxConcurrentExports threads; more at once get 503): memory stays flat whatever the table
// size. Imports are parsed on `blockingPool` and written as one Store::submitWrite job.
//
// Thread: construct and registerRoutes() before the server starts; the handlers run on network
// threads. The destructor waits for running exports: destroy it after the HTTP server is stopped
// (which cancels them) and before the store.
class TransferController
{
public:
    static constexpr int kMaxConcurrentExports = 4;
    static constexpr int kMaxImportRows = 100'000;

    TransferController(Data::Collections &collections, const Data::Records &records, Store::Store &store,
                       const Clock &clock, QThreadPool *blockingPool,
                       QList<QPair<QHostAddress, int>> trustedProxies = {});
    ~TransferController();
    TransferController(const TransferController &) = delete;
    TransferController &operator=(const TransferController &) = delete;

    void registerRoutes(Router &router) const;

private:
    void exportRecords(const Request &request, const Responder &responder) const;
    void importRecords(const Request &request, const Responder &responder) const;

    Data::Collections &m_collections;
    const Data::Records &m_records;
    Store::Store &m_store;
    const Clock &m_clock;
    QThreadPool *m_blockingPool;
    QList<QPair<QHostAddress, int>> m_trustedProxies;
    std::unique_ptr<QThreadPool> m_exportPool;
};

} // namespace Outpost::Http
