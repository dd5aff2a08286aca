#include <QJsonArray>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "core/clock.h"
#include "data/filter.h"
#include "store/sqlite.h"

using namespace Outpost;
using namespace Outpost::Data;
using Outpost::Store::Database;

namespace {

// The schema of the SQLite test below: posts(id, title, views, score, published, author, tags, created)
// with tags a JSON array, and author.name a relation into users. "secret" is a field callers may not use.
class FakeResolver final : public FieldResolver
{
public:
    Result<ResolvedField> resolve(const QStringList &path) const override
    {
        static const QStringList kColumns {
            QStringLiteral("id"),        QStringLiteral("title"),  QStringLiteral("views"), QStringLiteral("score"),
            QStringLiteral("published"), QStringLiteral("author"), QStringLiteral("tags"),  QStringLiteral("created")};
        const QString key = path.join(u'.');
        if (key == u"author.name")
            return ResolvedField {QStringLiteral(R"((SELECT "name" FROM "users" WHERE "users"."id" = "author"))")};
        if (key == u"secret")
            return makeError(ErrorCode::PermissionDenied, QStringLiteral("field \"secret\" is hidden"));
        if (path.size() != 1 || !kColumns.contains(key))
            return makeError(ErrorCode::InvalidArgument, QStringLiteral("unknown field \"%1\"").arg(key));
        auto quoted = quoteIdentifier(key);
        if (!quoted)
            return quoted.error();
        return ResolvedField {*quoted, key == u"tags"};
    }
};

// 2024-02-10 13:14:15.678 UTC, a Saturday in a leap-year February.
qint64 testTimeMs()
{
    return QDateTime(QDate(2024, 2, 10), QTime(13, 14, 15, 678), Qt::UTC).toMSecsSinceEpoch();
}

QString s(const char *text)
{
    return QString::fromUtf8(text);
}

QVariant str(const char *text)
{
    return QVariant(QString::fromUtf8(text));
}

QVariant num(qint64 value)
{
    return QVariant(value);
}

const QString kEachTags = s(R"(json_each(CASE WHEN json_array_length("tags") > 0 THEN "tags" ELSE '[null]' END))");
const QString kAuthorName = s(R"((SELECT "name" FROM "users" WHERE "users"."id" = "author"))");

QString anyTags(const char *condition)
{
    return u"EXISTS (SELECT 1 FROM " + kEachTags + u" AS __je1 WHERE " + s(condition) + u')';
}

QString allTags(const char *condition)
{
    return u"NOT EXISTS (SELECT 1 FROM " + kEachTags + u" AS __je1 WHERE (" + s(condition) + u") IS NOT 1)";
}

// Exact comparison: same count, same types (qint64 is not double), same values.
bool sameParams(const QVariantList &actual, const QVariantList &expected)
{
    if (actual.size() != expected.size())
        return false;
    for (qsizetype i = 0; i < actual.size(); ++i) {
        if (actual[i].typeId() != expected[i].typeId() || actual[i] != expected[i])
            return false;
    }
    return true;
}

FilterContext testContext(const Clock *clock)
{
    FilterContext context;
    context.auth = QJsonObject {
        {QStringLiteral("id"), QStringLiteral("u1")}, {QStringLiteral("verified"), true}, {QStringLiteral("level"), 3}};
    context.body = QJsonObject {
        {QStringLiteral("x"), QStringLiteral("hello")},
        {QStringLiteral("n"), 2.5},
        {QStringLiteral("wanted"), QJsonArray {QStringLiteral("b"), QStringLiteral("z")}},
        {QStringLiteral("none"), QJsonArray {}},
        {QStringLiteral("obj"), QJsonObject {{QStringLiteral("k"), QStringLiteral("v")}}},
        {QStringLiteral("nested"),
         QJsonObject {{QStringLiteral("a"), QJsonObject {{QStringLiteral("b"), QStringLiteral("deep")}}}}},
    };
    context.query = QJsonObject {{QStringLiteral("page"), 2}};
    context.headers = QJsonObject {{QStringLiteral("x_token"), QStringLiteral("abc")}};
    context.clock = clock;
    return context;
}

} // namespace

class TestFilter : public QObject
{
    Q_OBJECT

private slots:
    void compiles_data();
    void compiles();
    void guestAuthIsNull();
    void nestingAndLengthLimitsAreInclusive();
    void requestTextNeverReachesSql();
    void rejects_data();
    void rejects();
    void resolverErrorsKeepTheirCode();
    void dateMacroWithoutClockIsInternal();
    void quoteIdentifier_data();
    void quoteIdentifier();
    void matchesRowsInSqlite_data();
    void matchesRowsInSqlite();
    void longestFilterRunsInSqlite();

private:
    Result<CompiledFilter> compile(const QString &expression) const
    {
        return compileFilter(expression, m_resolver, testContext(&m_clock));
    }
    std::unique_ptr<Database> openTestDatabase(QTemporaryDir &dir) const;
    Result<QString> matchingIds(Database &db, const QString &expression, bool guest) const;

    FakeResolver m_resolver;
    ManualClock m_clock {testTimeMs()};
};

void TestFilter::compiles_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<QString>("sql");
    QTest::addColumn<QVariantList>("params");
    const auto row = [](const char *name, const char *expression, const QString &sql, QVariantList params = {}) {
        QTest::newRow(name) << s(expression) << sql << params;
    };
    // Every operator and literal kind.
    row("= string", R"(title = "abc")", s(R"("title" = ?)"), {str("abc")});
    row("!= is null-safe", "title != 'abc'", s(R"("title" IS NOT ?)"), {str("abc")});
    row("> int", "views > 10", s(R"("views" > ?)"), {num(10)});
    row(">= negative", "views >= -5", s(R"("views" >= ?)"), {num(-5)});
    row("< float", "score < 1.5", s(R"("score" < ?)"), {1.5});
    row("<= signed", "score <= +2", s(R"("score" <= ?)"), {num(2)});
    row("huge int is double", "views < 99999999999999999999", s(R"("views" < ?)"), {1e20});
    row("~ wraps", "title ~ 'abc'", s(R"("title" LIKE ? ESCAPE '\')"), {str("%abc%")});
    row("!~ wraps", "title !~ 'abc'", s(R"("title" NOT LIKE ? ESCAPE '\')"), {str("%abc%")});
    row("~ with %", "title ~ 'ab%'", s(R"("title" LIKE ? ESCAPE '\')"), {str("ab%")});
    row("~ escapes _", "title ~ 'a_b'", s(R"("title" LIKE ? ESCAPE '\')"), {str(R"(%a\_b%)")});
    row("~ keeps escaped _", R"(title ~ 'a\_b')", s(R"("title" LIKE ? ESCAPE '\')"), {str(R"(%a\_b%)")});
    row("~ escapes backslash", R"(title ~ 'a\b')", s(R"("title" LIKE ? ESCAPE '\')"), {str(R"(%a\\b%)")});
    row("~ number", "title ~ 12", s(R"("title" LIKE ? ESCAPE '\')"), {str("%12%")});
    row("~ field", "title ~ author.name", s(R"("title" LIKE ('%' || )") + kAuthorName + s(R"( || '%') ESCAPE '\')"));
    row("true", "published = true", s(R"("published" = ?)"), {num(1)});
    row("false", "published = FALSE", s(R"("published" = ?)"), {num(0)});
    row("= null", "title = null", s(R"(("title" = '' OR "title" IS NULL))"));
    row("!= null", "title != NULL", s(R"(("title" IS NOT '' AND "title" IS NOT NULL))"));
    row("= ''", "title = ''", s(R"(("title" = '' OR "title" IS NULL))"));
    row("null on the left", "null = title", s(R"(("title" = '' OR "title" IS NULL))"));
    row("empty vs value", "'' = 'x'", s("'' = ?"), {str("x")});
    row("empty vs empty", "null != ''", s("'' IS NOT ''"));
    row("field vs field", "title = author.name", u"COALESCE(\"title\", '') = COALESCE(" + kAuthorName + u", '')");
    row("> null binds NULL", "views > null", s(R"("views" > ?)"), {QVariant()});
    row("value vs value", "1 != 2", s("? IS NOT ?"), {num(1), num(2)});
    // Modifiers.
    row(":lower", "title:lower = 'abc'", s(R"(LOWER("title") = ?)"), {str("abc")});
    row(":length of text", "title:length > 3", s(R"(LENGTH(COALESCE("title", '')) > ?)"), {num(3)});
    // Structure.
    row("&& before ||", "title = 'a' || views = 1 && score = 2", s(R"(("title" = ? OR ("views" = ? AND "score" = ?)))"),
        {str("a"), num(1), num(2)});
    row("parentheses", "(title='a' || views=1) && score=2", s(R"((("title" = ? OR "views" = ?) AND "score" = ?))"),
        {str("a"), num(1), num(2)});
    row("redundant parentheses", "((title = 'a'))", s(R"("title" = ?)"), {str("a")});
    row("chains stay flat", "views=1&&views=2&&views=3", s(R"(("views" = ? AND "views" = ? AND "views" = ?))"),
        {num(1), num(2), num(3)});
    row("whitespace and comments", "  // leading\n title='a'// note\n&&\tviews>1 // end",
        s(R"(("title" = ? AND "views" > ?))"), {str("a"), num(1)});
    // String escapes: only the string's own quote; other backslashes are kept.
    row("escaped single quote", R"(title = 'it\'s')", s(R"("title" = ?)"), {str("it's")});
    row("escaped double quote", R"(title = "say \"hi\"")", s(R"("title" = ?)"), {str(R"(say "hi")")});
    row("other quote inside", R"(title = "it's")", s(R"("title" = ?)"), {str("it's")});
    row("backslashes kept", R"(title = 'a\\b\n')", s(R"("title" = ?)"), {str(R"(a\\b\n)")});
    row("trailing backslash pair", R"(title = 'a\\')", s(R"("title" = ?)"), {str(R"(a\\)")});
    // Date macros at 2024-02-10 13:14:15.678Z.
    row("@now", "created > @now", s(R"("created" > ?)"), {str("2024-02-10 13:14:15.678Z")});
    row("@yesterday", "created > @yesterday", s(R"("created" > ?)"), {str("2024-02-09 13:14:15.678Z")});
    row("@tomorrow", "created > @tomorrow", s(R"("created" > ?)"), {str("2024-02-11 13:14:15.678Z")});
    row("@todayStart", "created > @todayStart", s(R"("created" > ?)"), {str("2024-02-10 00:00:00.000Z")});
    row("@todayEnd", "created > @todayEnd", s(R"("created" > ?)"), {str("2024-02-10 23:59:59.999Z")});
    row("@monthStart", "created > @monthStart", s(R"("created" > ?)"), {str("2024-02-01 00:00:00.000Z")});
    row("@monthEnd leap", "created > @monthEnd", s(R"("created" > ?)"), {str("2024-02-29 23:59:59.999Z")});
    row("@yearStart", "created > @yearStart", s(R"("created" > ?)"), {str("2024-01-01 00:00:00.000Z")});
    row("@yearEnd", "created > @yearEnd", s(R"("created" > ?)"), {str("2024-12-31 23:59:59.999Z")});
    row("@second..@year", "@second=15&&@minute=14&&@hour=13&&@weekday=6&&@day=10&&@month=2&&@year=2024",
        s("(? = ? AND ? = ? AND ? = ? AND ? = ? AND ? = ? AND ? = ? AND ? = ?)"),
        {num(15), num(15), num(14), num(14), num(13), num(13), num(6), num(6), num(10), num(10), num(2), num(2),
         num(2024), num(2024)});
    // @request placeholders.
    row("auth.id", "author = @request.auth.id", s(R"("author" = ?)"), {str("u1")});
    row("auth bool", "@request.auth.verified = true", s("? = ?"), {num(1), num(1)});
    row("auth int", "views > @request.auth.level", s(R"("views" > ?)"), {num(3)});
    row("missing is null", "author = @request.auth.missing", s(R"(("author" = '' OR "author" IS NULL))"));
    row("body string", "title = @request.body.x", s(R"("title" = ?)"), {str("hello")});
    row("body double", "score = @request.body.n", s(R"("score" = ?)"), {2.5});
    row("body nested", "title = @request.body.nested.a.b", s(R"("title" = ?)"), {str("deep")});
    row("body object", "title = @request.body.obj", s(R"("title" = ?)"), {str(R"({"k":"v"})")});
    row("body array any-of", "title ?= @request.body.wanted",
        s(R"(EXISTS (SELECT 1 FROM json_each(?) AS __je1 WHERE COALESCE("title", '') = COALESCE(__je1.value, '')))"),
        {str(R"(["b","z"])")});
    row("empty body array", "title ?= @request.body.none",
        s(R"(EXISTS (SELECT 1 FROM json_each(?) AS __je1 WHERE COALESCE("title", '') = COALESCE(__je1.value, '')))"),
        {str("[null]")});
    row("query", "@request.query.page = 2", s("? = ?"), {num(2), num(2)});
    row("headers", "@request.headers.x_token = 'abc'", s("? = ?"), {str("abc"), str("abc")});
    // Relations and multi-valued fields.
    row("relation path", "author.name = 'ann'", kAuthorName + u" = ?", {str("ann")});
    row("?=", "tags ?= 'a'", anyTags("__je1.value = ?"), {str("a")});
    row("?!=", "tags ?!= 'a'", anyTags("__je1.value IS NOT ?"), {str("a")});
    row("?>", "tags ?> 1", anyTags("__je1.value > ?"), {num(1)});
    row("?>=", "tags ?>= 1", anyTags("__je1.value >= ?"), {num(1)});
    row("?<", "tags ?< 1", anyTags("__je1.value < ?"), {num(1)});
    row("?<=", "tags ?<= 1", anyTags("__je1.value <= ?"), {num(1)});
    row("?~", "tags ?~ 'a'", anyTags(R"(__je1.value LIKE ? ESCAPE '\')"), {str("%a%")});
    row("?!~", "tags ?!~ 'a'", anyTags(R"(__je1.value NOT LIKE ? ESCAPE '\')"), {str("%a%")});
    row("plain = is all", "tags = 'a'", allTags("__je1.value = ?"), {str("a")});
    row("plain ~ is all", "tags ~ 'a'", allTags(R"(__je1.value LIKE ? ESCAPE '\')"), {str("%a%")});
    row("all = null", "tags = null", allTags("(__je1.value = '' OR __je1.value IS NULL)"));
    row("?= on a single field", "title ?= 'a'", s(R"("title" = ?)"), {str("a")});
    row("aliases are unique", "tags ?= 'a' && tags ?= 'b'",
        u'(' + anyTags("__je1.value = ?") + u" AND "
            + anyTags("__je1.value = ?").replace(QStringLiteral("__je1"), QStringLiteral("__je2")) + u')',
        {str("a"), str("b")});
    row("many vs many", "tags ?= @request.body.wanted",
        u"EXISTS (SELECT 1 FROM " + kEachTags
            + u" AS __je1, json_each(?) AS __je2 WHERE COALESCE(__je1.value, '') = COALESCE(__je2.value, ''))",
        {str(R"(["b","z"])")});
}

void TestFilter::compiles()
{
    QFETCH(QString, expression);
    QFETCH(QString, sql);
    QFETCH(QVariantList, params);
    const auto compiled = compile(expression);
    QVERIFY2(compiled.ok(), qPrintable(compiled.ok() ? QString() : compiled.error().message));
    QCOMPARE(compiled->sql, sql);
    QVERIFY2(sameParams(compiled->params, params), qPrintable(QDebug::toString(compiled->params)));
    QCOMPARE(compiled->sql.count(u'?'), compiled->params.size());
}

void TestFilter::guestAuthIsNull()
{
    const auto compiled = compileFilter(u"author = @request.auth.id", m_resolver, FilterContext {});
    QVERIFY(compiled.ok());
    QCOMPARE(compiled->sql, s(R"(("author" = '' OR "author" IS NULL))"));
    QVERIFY(compiled->params.isEmpty());
}

void TestFilter::nestingAndLengthLimitsAreInclusive()
{
    const QString deepest = QString(kMaxFilterDepth, u'(') + u"views = 1" + QString(kMaxFilterDepth, u')');
    QVERIFY(compile(deepest).ok());
    const QString prefix = QStringLiteral("title = '");
    const QString longest = prefix + QString(kMaxFilterLength - prefix.size() - 1, u'x') + u'\'';
    QCOMPARE(longest.size(), kMaxFilterLength);
    QVERIFY(compile(longest).ok());
}

void TestFilter::requestTextNeverReachesSql()
{
    const auto compiled = compile(s(R"(title = "'; DROP TABLE posts; --" || title ~ "\" OR 1=1 --")"));
    QVERIFY(compiled.ok());
    QCOMPARE(compiled->sql, s(R"(("title" = ? OR "title" LIKE ? ESCAPE '\'))"));
    QVERIFY(sameParams(compiled->params, {str("'; DROP TABLE posts; --"), str(R"(%" OR 1=1 --%)")}));
}

void TestFilter::rejects_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<int>("position");
    QTest::addColumn<QString>("message");
    const auto row = [](const char *name, const QString &expression, int position, const char *message) {
        QTest::newRow(name) << expression << position << s(message);
    };
    row("unterminated string", s(R"(title = "abc)"), 9, "unterminated string starting here, expected a closing \"");
    row("unterminated by escape", s(R"(title = 'abc\')"), 9, "unterminated string");
    row("unknown operator ==", s("title == 1"), 7, R"(unknown operator "==")");
    row("unknown operator =>", s("title => 1"), 7, R"(unknown operator "=>")");
    row("unknown operator !", s("title = 'a' ! views = 1"), 13, R"(unknown operator "!")");
    row("single &", s("title = 1 & views = 2"), 11, R"(unknown operator "&", expected "&&")");
    row("single |", s("title = 1 | views = 2"), 11, R"(unknown operator "|", expected "||")");
    row("missing right operand", s("title ="), 8, R"(expected a value after "=", found end of input)");
    row("operator as right operand", s("title = = 1"), 9, R"(expected a value after "=", found "=")");
    row("missing left operand", s("= 1"), 1, R"(expected a field, a value or "(", found "=")");
    row("missing operator", s("title 'a'"), 7, R"(expected an operator such as "=" after "title", found string 'a')");
    row("bare field", s("published && views = 1"), 11,
        R"(expected an operator such as "=" after "published", found "&&")");
    row("dangling &&", s("title = 1 &&"), 13, R"(expected a field, a value or "(", found end of input)");
    row("unclosed (", s("(title = 1"), 11,
        R"x(expected "&&", "||" or ")" to close the "(" at position 1, found end of input)x");
    row("extra )", s("title = 1)"), 10, R"x(expected "&&", "||" or end of input, found ")")x");
    row("empty ()", s("()"), 2, R"x(expected a field, a value or "(", found ")")x");
    row("trailing garbage", s("title = 1 views"), 11, R"(expected "&&", "||" or end of input, found "views")");
    row("empty", QString(), 1, R"(expected a field, a value or "(", found end of input)");
    row("only a comment", s("  // nothing"), 13, R"(expected a field, a value or "(", found end of input)");
    row("unknown field", s("title = 1 && nope = 2"), 14, R"(unknown field "nope")");
    row("unknown relation", s("author.nope = 2"), 1, R"(unknown field "author.nope")");
    row("bad character", s("tit$le = 1"), 4, R"(unexpected character "$")");
    row("non-ASCII", s("tïtle = 1"), 2, R"(unexpected character "ï")");
    row("single slash", s("title = 1 / 2"), 11, R"(unexpected character "/")");
    row("digit after dot", s("author.1x = 1"), 8, R"(invalid name "1x" in "author.1x")");
    row("empty path part", s("author..name = 1"), 8, R"(invalid name "" in "author..name")");
    row("name too long", QString(64, u'a') + u" = 1", 1, "invalid name");
    row("hash", s("#title = 1"), 1, R"(invalid name "#title")");
    row("modifier :each", s("title:each = 'a'"), 6, R"(the modifier ":each" is not supported here)");
    row("isset on a field", s("title:isset = true"), 6, R"(the modifier ":isset" is not supported here)");
    row("invalid number", s("views > 12abc"), 9, R"(invalid number "12abc")");
    row("unknown macro", s("created > @never"), 11, R"(unknown macro "@never")");
    row("@collection", s("@collection.users.id = 1"), 1, "@collection references are not supported yet");
    row("@request.method", s("@request.method = 'GET'"), 1, R"("@request.method" is not supported)");
    row("@request.auth alone", s("@request.auth = 'x'"), 14, R"(expected a field name after "@request.auth")");
    row("too long", QString(kMaxFilterLength + 1, u' '), 4097, "the filter is longer than 4096 characters");
    row("too deep", QString(kMaxFilterDepth + 1, u'(') + u"views = 1" + QString(kMaxFilterDepth + 1, u')'), 33,
        "parentheses are nested deeper than 32 levels");
    row("hostile depth", QString(4000, u'('), 33, "parentheses are nested deeper than 32 levels");
}

void TestFilter::rejects()
{
    QFETCH(QString, expression);
    QFETCH(int, position);
    QFETCH(QString, message);
    const auto compiled = compile(expression);
    QVERIFY(!compiled.ok());
    QCOMPARE(compiled.error().code, ErrorCode::InvalidArgument);
    const QString prefix = QStringLiteral("filter: at position %1: ").arg(position);
    QVERIFY2(compiled.error().message.startsWith(prefix), qPrintable(compiled.error().message));
    QVERIFY2(compiled.error().message.contains(message), qPrintable(compiled.error().message));
    QCOMPARE(compiled.error().details.value(u"position").toInt(), position);
}

void TestFilter::resolverErrorsKeepTheirCode()
{
    const auto compiled = compile(s("views = 1 || secret = 'x'"));
    QVERIFY(!compiled.ok());
    QCOMPARE(compiled.error().code, ErrorCode::PermissionDenied);
    QCOMPARE(compiled.error().message, s(R"(filter: at position 14: field "secret" is hidden)"));
    QCOMPARE(compiled.error().details.value(u"position").toInt(), 14);
}

void TestFilter::dateMacroWithoutClockIsInternal()
{
    const auto compiled = compileFilter(u"created > @now", m_resolver, FilterContext {});
    QVERIFY(!compiled.ok());
    QCOMPARE(compiled.error().code, ErrorCode::Internal);
}

void TestFilter::quoteIdentifier_data()
{
    QTest::addColumn<QString>("identifier");
    QTest::addColumn<QString>("quoted");
    QTest::newRow("plain") << s("title") << s(R"("title")");
    QTest::newRow("underscore and digits") << s("_a1_B2") << s(R"("_a1_B2")");
    QTest::newRow("keyword") << s("select") << s(R"("select")");
    QTest::newRow("63 characters") << QString(63, u'x') << u'"' + QString(63, u'x') + u'"';
    QTest::newRow("empty") << QString() << QString();
    QTest::newRow("64 characters") << QString(64, u'x') << QString();
    QTest::newRow("leading digit") << s("1a") << QString();
    QTest::newRow("dash") << s("a-b") << QString();
    QTest::newRow("space") << s("a b") << QString();
    QTest::newRow("quote") << s(R"(a"b)") << QString();
    QTest::newRow("dot") << s("a.b") << QString();
    QTest::newRow("non-ASCII") << s("tïtle") << QString();
}

void TestFilter::quoteIdentifier()
{
    QFETCH(QString, identifier);
    QFETCH(QString, quoted);
    const auto result = Data::quoteIdentifier(identifier);
    QCOMPARE(result.ok(), !quoted.isEmpty());
    if (result.ok())
        QCOMPARE(*result, quoted);
    else
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
}

std::unique_ptr<Database> TestFilter::openTestDatabase(QTemporaryDir &dir) const
{
    auto db = Database::open(dir.filePath(QStringLiteral("filter.db")), Database::Mode::ReadWrite);
    if (!db)
        return nullptr;
    const Status created = (*db)->exec(R"(
        CREATE TABLE users (id TEXT PRIMARY KEY, name TEXT);
        INSERT INTO users VALUES ('u1', 'Ann'), ('u2', 'Bob');
        CREATE TABLE posts (id TEXT PRIMARY KEY, title TEXT, views INTEGER, score REAL, published INTEGER,
                            author TEXT, tags TEXT, created TEXT);
        INSERT INTO posts VALUES
            ('p1', 'Hello world', 10, 1.5, 1, 'u1', '["a","b"]', '2024-02-10 10:00:00.000Z'),
            ('p2', '50% off', 0, NULL, 0, 'u2', '["b"]', '2024-01-31 23:59:59.999Z'),
            ('p3', NULL, 5, 3.0, 1, NULL, '[]', '2023-12-31 00:00:00.000Z'),
            ('p4', '', -1, 0.0, 0, 'u1', NULL, '2024-02-10 13:14:15.678Z'),
            ('p5', 'a_b', 100, 2.5, 1, 'u3', '["a"]', '2024-02-11 00:00:00.000Z');)");
    return created.ok() ? std::move(*db) : nullptr;
}

// The ids of the posts the filter selects, comma-separated in id order.
Result<QString> TestFilter::matchingIds(Database &db, const QString &expression, bool guest) const
{
    FilterContext context = testContext(&m_clock);
    if (guest)
        context.auth = {};
    const auto filter = compileFilter(expression, m_resolver, context);
    if (!filter)
        return filter.error();
    const QByteArray sql = QString(u"SELECT id FROM posts WHERE " + filter->sql + u" ORDER BY id").toUtf8();
    auto statement = db.prepare(sql.constData());
    if (!statement)
        return statement.error();
    for (int i = 0; i < filter->params.size(); ++i) {
        const QVariant &param = filter->params[i];
        switch (param.typeId()) {
        case QMetaType::QString:
            statement->bind(i + 1, param.toString());
            break;
        case QMetaType::LongLong:
            statement->bind(i + 1, param.toLongLong());
            break;
        case QMetaType::Double:
            statement->bind(i + 1, param.toDouble());
            break;
        default:
            statement->bindNull(i + 1);
        }
    }
    QStringList ids;
    for (auto row = statement->step(); row.ok() && *row; row = statement->step())
        ids.append(statement->text(0));
    return ids.join(u',');
}

void TestFilter::matchesRowsInSqlite_data()
{
    QTest::addColumn<QString>("expression");
    QTest::addColumn<bool>("guest");
    QTest::addColumn<QString>("ids");
    const auto row = [](const char *expression, const char *ids, bool guest = false) {
        const QByteArray name = QByteArray(expression) + (guest ? " (guest)" : "");
        QTest::newRow(name.constData()) << s(expression) << guest << s(ids);
    };
    row("title = null", "p3,p4");
    row("title != null", "p1,p2,p5");
    row("title != 'a_b'", "p1,p2,p3,p4");
    row("title ~ 'WORLD'", "p1");
    row("title ~ '50%'", "p2");
    row("title ~ '_'", "p5");
    row(R"(title ~ '50\%%')", "p2");
    row("title !~ 'o'", "p4,p5");
    row("views > 0 && published = true", "p1,p3,p5");
    row("views >= 5 || score < 1", "p1,p3,p4,p5");
    row("(views < 1 || title = 'a_b') && published = false", "p2,p4");
    row("score = 2.5", "p5");
    row("views = -1", "p4");
    row("author.name = 'Ann'", "p1,p4");
    row("author.name = null", "p3,p5");
    row("tags ?= 'a'", "p1,p5");
    row("tags ?= 'b'", "p1,p2");
    row("tags = 'b'", "p2");
    row("tags = null", "p3,p4");
    row("tags != 'a'", "p2,p3,p4");
    row("tags ?~ 'B'", "p1,p2");
    row("tags ?= @request.body.wanted", "p1,p2");
    row("author = @request.auth.id", "p1,p4");
    row("author = @request.auth.id", "p3", true);
    row("created >= @todayStart && created <= @todayEnd", "p1,p4");
    row("created < @monthStart", "p2,p3");
    row("created > @now", "p5");
    row("created >= @yearStart", "p1,p2,p4,p5");
    row("1 = 1 && views = views", "p1,p2,p3,p4,p5");
}

void TestFilter::matchesRowsInSqlite()
{
    QFETCH(QString, expression);
    QFETCH(bool, guest);
    QFETCH(QString, ids);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto db = openTestDatabase(dir);
    QVERIFY(db);
    const auto matched = matchingIds(*db, expression, guest);
    QVERIFY2(matched.ok(), qPrintable(matched.ok() ? QString() : matched.error().message));
    QCOMPARE(*matched, ids);
}

// The flattest, longest filter still stays under SQLite's expression depth limit (1000).
void TestFilter::longestFilterRunsInSqlite()
{
    QString expression = QStringLiteral("1=1");
    while (expression.size() + 5 <= kMaxFilterLength)
        expression += u"||1=1";
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const auto db = openTestDatabase(dir);
    QVERIFY(db);
    const auto matched = matchingIds(*db, expression, false);
    QVERIFY2(matched.ok(), qPrintable(matched.ok() ? QString() : matched.error().message));
    QCOMPARE(*matched, s("p1,p2,p3,p4,p5"));
}

QTEST_GUILESS_MAIN(TestFilter)
#include "tst_filter.moc"
