// libFuzzer target: the record filter compiler (backend/data/filter.h) with any input as the expression.
// Not wired into CMake or CI. To build and run (clang, from the repository root):
//
//   FLAGS="-std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fPIC -DQT_NO_CAST_FROM_ASCII \
//          -DQT_USE_QSTRINGBUILDER -Ibackend $(pkg-config --cflags Qt6Core)"
//   clang++ $FLAGS tests/fuzz/fuzz_filter.cpp backend/data/filter.cpp backend/data/filterlexer.cpp \
//       backend/data/filtersql.cpp backend/data/filtervalues.cpp $(pkg-config --libs Qt6Core) -o fuzz_filter
//   ./fuzz_filter -max_len=4200 tests/fuzz/corpus/filter
//
// It checks invariants, not just absence of crashes: a success has exactly one parameter per "?" and no
// quote character outside the compiler's fixed SQL text (so no request text was spliced in); a failure
// is InvalidArgument with a position inside the input (or just past it).

#include <QJsonArray>
#include <cstdint>
#include <cstdlib>

#include "core/clock.h"
#include "data/filter.h"

using namespace Outpost;
using namespace Outpost::Data;

namespace {

class AnyFieldResolver final : public FieldResolver
{
public:
    Result<ResolvedField> resolve(const QStringList &path) const override
    {
        if (path.size() > 2 || path.first() == u"nope")
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field"));
        auto quoted = quoteIdentifier(path.last());
        if (!quoted)
            return quoted.error();
        return ResolvedField {*quoted, path.first() == u"tags"};
    }
};

void check(bool condition)
{
    if (!condition)
        std::abort();
}

bool onlyFixedQuotes(QString sql)
{
    for (const char *fixed : {"'[null]'", "('%' || ", " || '%')", "ESCAPE '\\'", "''"})
        sql.remove(QString::fromLatin1(fixed));
    return !sql.contains(u'\'');
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const ManualClock clock;
    static const AnyFieldResolver resolver;
    FilterContext context;
    context.auth = QJsonObject {{QStringLiteral("id"), QStringLiteral("u'1")}};
    context.body = QJsonObject {{QStringLiteral("list"), QJsonArray {1, QStringLiteral("a'b")}}};
    context.clock = &clock;

    const QString expression = QString::fromUtf8(reinterpret_cast<const char *>(data), qsizetype(size));
    const auto compiled = compileFilter(expression, resolver, context);
    if (compiled.ok()) {
        check(compiled->sql.count(u'?') == compiled->params.size());
        check(onlyFixedQuotes(compiled->sql));
        return 0;
    }
    const int position = compiled.error().details.value(u"position").toInt();
    check(compiled.error().code == ErrorCode::InvalidArgument);
    check(position >= 1 && position <= std::max<qsizetype>(expression.size(), kMaxFilterLength) + 1);
    return 0;
}
