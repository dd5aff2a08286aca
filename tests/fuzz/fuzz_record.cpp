// libFuzzer target: record validation against a fixed collection, with any input as the body.
// Not wired into CMake or CI. To build (clang, from the repository root, after building
// outpost_backend's field sources with the same flags):
//
//   FLAGS="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fPIC -DQT_NO_CAST_FROM_ASCII \
//          -DQT_USE_QSTRINGBUILDER -Ibackend $(pkg-config --cflags Qt6Core)"
//   clang++ $FLAGS tests/fuzz/fuzz_record.cpp backend/data/field.cpp backend/data/fieldformats.cpp \
//       backend/data/fieldvalidation.cpp $(pkg-config --libs Qt6Core) -o fuzz_record
//   ./fuzz_record -max_len=4096
//
// It checks invariants, not just absence of crashes: a success holds only known fields, and a
// failure is InvalidArgument with a code for each failing field.

#include <QJsonDocument>
#include <QJsonObject>
#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "core/clock.h"
#include "data/field.h"
#include "data/fieldvalidation.h"

using namespace Outpost;
using namespace Outpost::Data;

namespace {

QList<Field> fields()
{
    static const char *const definitions[] = {
        R"({"name":"id","type":"text","system":true,"primaryKey":true,"required":true,"min":15,"max":15,
            "pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}"})",
        R"({"name":"title","type":"text","required":true,"min":1,"max":20,"pattern":"^[^<>]*$"})",
        R"({"name":"count","type":"number","min":-5,"max":1e6,"onlyInt":true})",
        R"({"name":"flag","type":"bool"})",
        R"({"name":"mail","type":"email","exceptDomains":["spam.test"]})",
        R"({"name":"site","type":"url","onlyDomains":["example.com"]})",
        R"({"name":"when","type":"date","min":"2000-01-01","max":"2100-01-01"})",
        R"({"name":"tags","type":"select","values":["a","b","c"],"maxSelect":2})",
        R"({"name":"data","type":"json","maxSize":512})",
        R"({"name":"owner","type":"relation","collectionId":"users","minSelect":1,"maxSelect":3})",
        R"({"name":"updated","type":"autodate","system":true,"onCreate":true,"onUpdate":true})",
    };
    QList<Field> result;
    for (const char *definition : definitions) {
        auto field = Field::fromJson(QJsonDocument::fromJson(definition).object());
        if (!field)
            std::abort(); // the fixed collection itself is wrong
        result.append(*field);
    }
    return result;
}

void check(const QList<Field> &collection, const QJsonObject &input, Mode mode, InputSource source)
{
    static const ManualClock clock;
    const auto record = validateRecord(collection, input, mode, clock, source);
    if (record) {
        for (auto it = record->begin(); it != record->end(); ++it) {
            if (!std::any_of(collection.begin(), collection.end(), [&](const Field &f) { return f.name == it.key(); }))
                std::abort();
        }
        return;
    }
    const QJsonObject problems = record.error().details.value(QStringLiteral("fields")).toObject();
    if (record.error().code != ErrorCode::InvalidArgument || problems.isEmpty())
        std::abort();
    for (const QJsonValue &problem : problems) {
        if (problem[QStringLiteral("code")].toString().isEmpty())
            std::abort();
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const QList<Field> collection = fields();
    const QJsonDocument doc
        = QJsonDocument::fromJson(QByteArray::fromRawData(reinterpret_cast<const char *>(data), qsizetype(size)));
    if (!doc.isObject())
        return 0;
    for (const Mode mode : {Mode::Create, Mode::Update}) {
        for (const InputSource source : {InputSource::JsonBody, InputSource::FormData})
            check(collection, doc.object(), mode, source);
    }
    return 0;
}
