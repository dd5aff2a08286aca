#include "requestlogfeed.h"

namespace Outpost {

namespace {

constexpr qsizetype kMaxLoggedPath = 1024;

using CallerKind = Store::RequestEntry::CallerKind;
static_assert(int(Http::Caller::Kind::Guest) == int(CallerKind::Guest)
              && int(Http::Caller::Kind::Superuser) == int(CallerKind::Superuser)
              && int(Http::Caller::Kind::ApiKey) == int(CallerKind::ApiKey)
              && int(Http::Caller::Kind::User) == int(CallerKind::User));

// Static text, unlike Http::methodName()'s QByteArray, which allocates.
const char *methodText(Http::Method method)
{
    switch (method) {
    case Http::Method::Get:
        return "GET";
    case Http::Method::Head:
        return "HEAD";
    case Http::Method::Post:
        return "POST";
    case Http::Method::Put:
        return "PUT";
    case Http::Method::Patch:
        return "PATCH";
    case Http::Method::Delete:
        return "DELETE";
    case Http::Method::Options:
        break;
    }
    return "OPTIONS";
}

} // namespace

Store::RequestEntry requestLogEntry(const Http::ResponseRecord &record)
{
    Store::RequestEntry entry;
    entry.timeMs = record.startMs;
    entry.method = methodText(record.method);
    // A request line may be 8 KiB: keep the log's rows (and its disk) small whatever a client sends.
    entry.path = QByteArrayView(record.path).first(qMin(record.path.size(), kMaxLoggedPath));
    entry.route = record.pattern;
    entry.status = record.status;
    entry.durationUs = record.durationNs / 1000;
    entry.client = record.client;
    entry.callerKind = CallerKind(record.callerKind);
    entry.callerCollection = record.callerCollection;
    entry.callerId = record.callerId;
    entry.requestId = record.requestId;
    entry.bytesIn = record.bytesIn;
    entry.bytesOut = record.bytesOut;
    return entry;
}

} // namespace Outpost
