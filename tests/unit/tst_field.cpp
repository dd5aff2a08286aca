#include <QJsonArray>
#include <QJsonDocument>
#include <QRegularExpression>
#include <QTest>

#include "core/clock.h"
#include "data/field.h"
#include "data/fieldformats.h"
#include "data/fieldvalidation.h"

using namespace Outpost;
using namespace Outpost::Data;

namespace {

constexpr qint64 kStartMs = 1'700'000'000'000; // 2023-11-14 22:13:20 UTC

// One JSON value from text, scalars included; "undefined" stands for an absent key.
QJsonValue json(const QByteArray &text)
{
    if (text == "undefined")
        return QJsonValue(QJsonValue::Undefined);
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(QByteArray('[' + text + ']'), &error);
    if (error.error != QJsonParseError::NoError || doc.array().size() != 1)
        qWarning() << "bad JSON in the test table:" << text;
    return doc.array().first();
}

QJsonObject object(const QByteArray &text)
{
    return json(text).toObject();
}

QString fieldCode(const Error &error, const QString &field)
{
    return error.details.value(QStringLiteral("fields"))[field][QStringLiteral("code")].toString();
}

QByteArray quoted(const QByteArray &text)
{
    return '"' + text + '"';
}

Field field(const QByteArray &definition)
{
    auto f = Field::fromJson(object(definition));
    if (!f)
        qWarning() << "bad field in the test:" << f.error().message;
    return f ? *f : Field {};
}

void valueColumns()
{
    QTest::addColumn<QByteArray>("field");
    QTest::addColumn<QByteArray>("input");
    QTest::addColumn<QByteArray>("stored"); // JSON of the normalised value when `code` is empty
    QTest::addColumn<QString>("code");
}

void row(const char *name, const QByteArray &field, const QByteArray &input, const QByteArray &stored,
         const char *code = "")
{
    QTest::newRow(name) << field << input << stored << QString::fromLatin1(code);
}

void fail(const char *name, const QByteArray &field, const QByteArray &input, const char *code)
{
    row(name, field, input, QByteArray(), code);
}

// The body every per-type table shares.
void checkValue(InputSource source = InputSource::JsonBody)
{
    QFETCH(QByteArray, field);
    QFETCH(QByteArray, input);
    QFETCH(QByteArray, stored);
    QFETCH(QString, code);
    auto f = Field::fromJson(object(field));
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    const auto result = validateValue(*f, json(input), source);
    if (code.isEmpty()) {
        QVERIFY2(result.ok(), qPrintable(result.ok() ? QString() : result.error().message));
        QCOMPARE(*result, json(stored));
    } else {
        QVERIFY2(!result.ok(),
                 qPrintable(result.ok() ? QString::fromUtf8(QJsonDocument(QJsonArray {*result}).toJson()) : QString()));
        QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
        QCOMPARE(fieldCode(result.error(), f->name), code);
        QVERIFY(!result.error().message.isEmpty());
    }
}

// A collection like a PocketBase base collection: the system id and autodates plus user fields.
QList<Field> collection()
{
    return {
        field(R"({"name":"id","type":"text","system":true,"primaryKey":true,"required":true,"min":15,"max":15,
                  "pattern":"^[a-z0-9]+$","autogeneratePattern":"[a-z0-9]{15}"})"),
        field(R"({"name":"title","type":"text","required":true,"max":10})"),
        field(R"({"name":"count","type":"number","onlyInt":true})"),
        field(R"({"name":"contact","type":"email"})"),
        field(R"({"name":"tags","type":"select","values":["a","b","c"],"maxSelect":2})"),
        field(R"({"name":"meta","type":"json"})"),
        field(R"({"name":"created","type":"autodate","system":true,"onCreate":true})"),
        field(R"({"name":"updated","type":"autodate","system":true,"onCreate":true,"onUpdate":true})"),
        field(R"({"name":"touched","type":"autodate","onUpdate":true})"),
    };
}

} // namespace

class TestField : public QObject
{
    Q_OBJECT

private slots:
    void text_data();
    void text() { checkValue(); }
    void number_data();
    void number() { checkValue(); }
    void boolean_data();
    void boolean() { checkValue(); }
    void email_data();
    void email() { checkValue(); }
    void url_data();
    void url() { checkValue(); }
    void date_data();
    void date() { checkValue(); }
    void select_data();
    void select() { checkValue(); }
    void jsonValue_data();
    void jsonValue() { checkValue(); }
    void jsonFromForm_data();
    void jsonFromForm() { checkValue(InputSource::FormData); }
    void relation_data();
    void relation() { checkValue(); }
    void autodate_data();
    void autodate() { checkValue(); }

    void fromJsonRefuses_data();
    void fromJsonRefuses();
    void fromJsonAccepts_data();
    void fromJsonAccepts();
    void roundTrip_data();
    void roundTrip();
    void defaultsAreSerialised();
    void multipleAndSqlType_data();
    void multipleAndSqlType();
    void generatedValuesMatch_data();
    void generatedValuesMatch();

    void createFillsEveryField();
    void createReportsEveryFailingField();
    void createKeepsAValidCustomId();
    void updateIsPartial();
    void updateMayNotBlankRequired();
    void updateReportsEveryFailingField();
    void formDataRecord();
};

void TestField::text_data()
{
    valueColumns();
    const QByteArray bounded = R"({"name":"t","type":"text","min":2,"max":5})";
    const QByteArray plain = R"({"name":"t","type":"text"})";
    const QByteArray required = R"({"name":"t","type":"text","required":true})";
    const QByteArray pattern = R"({"name":"t","type":"text","pattern":"^[a-z]+$"})";
    const QByteArray unanchored = R"({"name":"t","type":"text","pattern":"[0-9]"})";
    row("plain", bounded, R"("abc")", R"("abc")");
    row("exactly min", bounded, R"("ab")", R"("ab")");
    row("exactly max", bounded, R"("abcde")", R"("abcde")");
    fail("below min", bounded, R"("a")", "validation_min_text_constraint");
    fail("above max", bounded, R"("abcdef")", "validation_max_text_constraint");
    row("code points, not UTF-16 units", bounded, R"("😀😀😀😀😀")", R"("😀😀😀😀😀")");
    fail("six code points", bounded, R"("😀😀😀😀😀😀")", "validation_max_text_constraint");
    fail("one accented character", bounded, R"("é")", "validation_min_text_constraint");
    row("empty skips min", bounded, R"("")", R"("")");
    row("null is blank", bounded, "null", R"("")");
    row("absent is blank", bounded, "undefined", R"("")");
    row("number becomes text", bounded, "12", R"("12")");
    row("decimal becomes text", bounded, "1.5", R"("1.5")");
    row("bool becomes text", bounded, "true", R"("true")");
    row("whitespace kept", plain, R"("  x ")", R"("  x ")");
    fail("array refused", bounded, R"(["ab"])", "validation_invalid_value");
    fail("object refused", bounded, R"({"a":"b"})", "validation_invalid_value");
    fail("required blank", required, R"("")", "validation_required");
    fail("required null", required, "null", "validation_required");
    row("required given", required, R"("x")", R"("x")");
    row("default max 5000", plain, quoted(QByteArray(5000, 'a')), quoted(QByteArray(5000, 'a')));
    fail("default max 5001", plain, quoted(QByteArray(5001, 'a')), "validation_max_text_constraint");
    row("pattern matches", pattern, R"("abc")", R"("abc")");
    fail("pattern mismatch", pattern, R"("abc1")", "validation_invalid_format");
    fail("$ is the end of text, as in Go", pattern, R"("abc\n")", "validation_invalid_format");
    row("pattern unanchored", unanchored, R"("a1b")", R"("a1b")");
    fail("pattern unanchored mismatch", unanchored, R"("ab")", "validation_invalid_format");
    row("pattern not applied to blank", pattern, R"("")", R"("")");
    fail("primary key blank", R"({"name":"id","type":"text","system":true,"primaryKey":true})", R"("")",
         "validation_required");
}

void TestField::number_data()
{
    valueColumns();
    const QByteArray bounded = R"({"name":"n","type":"number","min":1,"max":10})";
    const QByteArray integer = R"({"name":"n","type":"number","onlyInt":true})";
    const QByteArray required = R"({"name":"n","type":"number","required":true})";
    row("number", bounded, "5", "5");
    row("numeric string", bounded, R"("5")", "5");
    row("decimal string with spaces", bounded, R"(" 7.5 ")", "7.5");
    row("exponent string", bounded, R"("1e1")", "10");
    row("min inclusive", bounded, "1", "1");
    row("max inclusive", bounded, "10", "10");
    fail("below min", bounded, "0.5", "validation_min_number_constraint");
    fail("above max", bounded, "11", "validation_max_number_constraint");
    fail("above max as string", bounded, R"("10.01")", "validation_max_number_constraint");
    row("zero is blank and skips min", bounded, "0", "0");
    row("empty string is zero", bounded, R"("")", "0");
    row("null is zero", bounded, "null", "0");
    row("absent is zero", bounded, "undefined", "0");
    fail("text", bounded, R"("abc")", "validation_not_a_number");
    fail("trailing garbage", bounded, R"("5x")", "validation_not_a_number");
    fail("infinity string", bounded, R"("inf")", "validation_not_a_number");
    fail("nan string", bounded, R"("nan")", "validation_not_a_number");
    fail("bool", bounded, "true", "validation_not_a_number");
    fail("array", bounded, "[1]", "validation_not_a_number");
    fail("decimal for onlyInt", integer, "2.5", "validation_only_int_constraint");
    row("integer for onlyInt", integer, "3", "3");
    row("integral string for onlyInt", integer, R"("4.0")", "4");
    row("negative without bounds", integer, "-7", "-7");
    fail("required zero", required, "0", "validation_required");
    fail("required empty string", required, R"("")", "validation_required");
    row("required negative", required, "-1", "-1");
}

void TestField::boolean_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"b","type":"bool"})";
    const QByteArray required = R"({"name":"b","type":"bool","required":true})";
    row("true", plain, "true", "true");
    row("false", plain, "false", "false");
    row("string true", plain, R"("true")", "true");
    row("string false", plain, R"("false")", "false");
    row("one", plain, "1", "true");
    row("zero", plain, "0", "false");
    row("string one", plain, R"("1")", "true");
    row("string zero", plain, R"("0")", "false");
    row("empty string", plain, R"("")", "false");
    row("null", plain, "null", "false");
    row("absent", plain, "undefined", "false");
    fail("yes", plain, R"("yes")", "validation_invalid_value");
    fail("two", plain, "2", "validation_invalid_value");
    fail("array", plain, "[true]", "validation_invalid_value");
    fail("required false", required, "false", "validation_required");
    fail("required string false", required, R"("false")", "validation_required");
    row("required true", required, "true", "true");
}

void TestField::email_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"e","type":"email"})";
    const QByteArray only = R"({"name":"e","type":"email","onlyDomains":["example.com"]})";
    const QByteArray except = R"({"name":"e","type":"email","exceptDomains":["spam.test"]})";
    const QByteArray required = R"({"name":"e","type":"email","required":true})";
    row("valid", plain, R"("a.b+c@example.com")", R"("a.b+c@example.com")");
    fail("no at", plain, R"("not-an-email")", "validation_is_email");
    fail("no dot in domain", plain, R"("a@b")", "validation_is_email");
    fail("trailing newline", plain, R"("a@example.com\n")", "validation_is_email");
    fail("spaces", plain, R"(" a@example.com")", "validation_is_email");
    fail("number", plain, "5", "validation_is_email");
    fail("array", plain, R"(["a@example.com"])", "validation_is_email");
    row("blank", plain, R"("")", R"("")");
    row("null", plain, "null", R"("")");
    fail("required blank", required, R"("")", "validation_required");
    row("only domain", only, R"("a@example.com")", R"("a@example.com")");
    row("only domain, other case", only, R"("a@EXAMPLE.com")", R"("a@EXAMPLE.com")");
    fail("not an only domain", only, R"("a@other.com")", "validation_email_domain_not_allowed");
    fail("subdomain of an only domain", only, R"("a@mail.example.com")", "validation_email_domain_not_allowed");
    fail("except domain", except, R"("a@spam.test")", "validation_email_domain_not_allowed");
    row("not an except domain", except, R"("a@ok.test")", R"("a@ok.test")");
}

void TestField::url_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"u","type":"url"})";
    const QByteArray only = R"({"name":"u","type":"url","onlyDomains":["example.com"]})";
    const QByteArray except = R"({"name":"u","type":"url","exceptDomains":["blocked.test"]})";
    const QByteArray required = R"({"name":"u","type":"url","required":true})";
    row("https", plain, R"("https://example.com/path?q=1#x")", R"("https://example.com/path?q=1#x")");
    row("http with port", plain, R"("http://localhost:8080")", R"("http://localhost:8080")");
    row("ftp", plain, R"("ftp://files.example.com/a.txt")", R"("ftp://files.example.com/a.txt")");
    fail("no scheme", plain, R"("example.com")", "validation_is_url");
    fail("javascript", plain, "\"javascript:alert(1)\"", "validation_is_url");
    fail("mailto", plain, R"("mailto:a@example.com")", "validation_is_url");
    fail("space in host", plain, R"("https://exa mple.com")", "validation_is_url");
    fail("space in path", plain, R"("https://example.com/a b")", "validation_is_url");
    fail("no host", plain, R"("http://")", "validation_is_url");
    fail("number", plain, "5", "validation_is_url");
    row("blank", plain, R"("")", R"("")");
    fail("required blank", required, "null", "validation_required");
    row("only domain", only, R"("https://example.com/x")", R"("https://example.com/x")");
    fail("not an only domain", only, R"("https://evil.com")", "validation_url_domain_not_allowed");
    fail("subdomain", only, R"("https://sub.example.com")", "validation_url_domain_not_allowed");
    fail("except domain", except, R"("https://BLOCKED.test/")", "validation_url_domain_not_allowed");
    row("not an except domain", except, R"("https://ok.test")", R"("https://ok.test")");
}

void TestField::date_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"d","type":"date"})";
    const QByteArray bounded = R"({"name":"d","type":"date","min":"2024-01-01","max":"2024-12-31 23:59:59.999Z"})";
    const QByteArray required = R"({"name":"d","type":"date","required":true})";
    const QByteArray at = R"("2024-05-06 07:08:09.000Z")";
    row("stored form", plain, R"("2024-05-06 07:08:09.123Z")", R"("2024-05-06 07:08:09.123Z")");
    row("space without fraction", plain, R"("2024-05-06 07:08:09Z")", at);
    row("RFC 3339", plain, R"("2024-05-06T07:08:09Z")", at);
    row("RFC 3339 lower case", plain, R"("2024-05-06t07:08:09z")", at);
    row("one fraction digit", plain, R"("2024-05-06T07:08:09.5Z")", R"("2024-05-06 07:08:09.500Z")");
    row("nanoseconds truncated", plain, R"("2024-05-06T07:08:09.123456789Z")", R"("2024-05-06 07:08:09.123Z")");
    row("positive offset", plain, R"("2024-05-06T09:08:09+02:00")", at);
    row("negative offset", plain, R"("2024-05-06T01:38:09-05:30")", at);
    row("offset crosses the year", plain, R"("2024-12-31T23:30:00-01:00")", R"("2025-01-01 00:30:00.000Z")");
    row("date only", plain, R"("2024-05-06")", R"("2024-05-06 00:00:00.000Z")");
    row("no zone is UTC", plain, R"("2024-05-06 07:08:09")", at);
    row("surrounding spaces", plain, R"(" 2024-05-06 ")", R"("2024-05-06 00:00:00.000Z")");
    row("leap day", plain, R"("2024-02-29")", R"("2024-02-29 00:00:00.000Z")");
    row("blank", plain, R"("")", R"("")");
    row("null", plain, "null", R"("")");
    fail("impossible day", plain, R"("2024-02-30")", "validation_invalid_date");
    fail("not a leap year", plain, R"("2023-02-29")", "validation_invalid_date");
    fail("month 13", plain, R"("2024-13-01")", "validation_invalid_date");
    fail("hour 24", plain, R"("2024-05-06T24:00:00Z")", "validation_invalid_date");
    fail("leap second", plain, R"("2016-12-31T23:59:60Z")", "validation_invalid_date");
    fail("offset hours 25", plain, R"("2024-05-06T07:08:09+25:00")", "validation_invalid_date");
    fail("offset without colon", plain, R"("2024-05-06T07:08:09+0200")", "validation_invalid_date");
    fail("hours and minutes only", plain, R"("2024-05-06T07:08Z")", "validation_invalid_date");
    fail("US format", plain, R"("05/06/2024")", "validation_invalid_date");
    fail("words", plain, R"("tomorrow")", "validation_invalid_date");
    fail("unix time", plain, "1714979289", "validation_invalid_date");
    fail("year 0", plain, R"("0000-01-01")", "validation_invalid_date");
    fail("past year 9999", plain, R"("9999-12-31T23:00:00-02:00")", "validation_invalid_date");
    fail("required blank", required, R"("")", "validation_required");
    fail("before min", bounded, R"("2023-12-31T23:59:59.999Z")", "validation_min_date_constraint");
    row("at min", bounded, R"("2024-01-01")", R"("2024-01-01 00:00:00.000Z")");
    row("at max", bounded, R"("2024-12-31T23:59:59.999Z")", R"("2024-12-31 23:59:59.999Z")");
    fail("after max", bounded, R"("2025-01-01")", "validation_max_date_constraint");
    row("after max locally, inside in UTC", bounded, R"("2025-01-01T00:30:00+01:00")", R"("2024-12-31 23:30:00.000Z")");
}

void TestField::select_data()
{
    valueColumns();
    const QByteArray single = R"({"name":"s","type":"select","values":["a","b","c"]})";
    const QByteArray multiple = R"({"name":"s","type":"select","values":["a","b","c"],"maxSelect":2})";
    const QByteArray required = R"({"name":"s","type":"select","values":["a","b","c"],"maxSelect":3,"required":true})";
    row("single", single, R"("a")", R"("a")");
    fail("single unknown", single, R"("d")", "validation_invalid_value");
    fail("single wrong case", single, R"("A")", "validation_invalid_value");
    row("single blank", single, R"("")", R"("")");
    row("single null", single, "null", R"("")");
    row("single from an array keeps the last", single, R"(["a","b"])", R"("b")");
    fail("single number", single, "5", "validation_invalid_value");
    row("multiple from a string", multiple, R"("a")", R"(["a"])");
    row("multiple", multiple, R"(["b","a"])", R"(["b","a"])");
    row("duplicates removed", multiple, R"(["a","a","b","a"])", R"(["a","b"])");
    row("empty strings removed", multiple, R"(["a","","b"])", R"(["a","b"])");
    fail("too many", multiple, R"(["a","b","c"])", "validation_too_many_values");
    fail("unknown in array", multiple, R"(["a","x"])", "validation_invalid_value");
    fail("number in array", multiple, R"(["a",1])", "validation_invalid_value");
    fail("object", multiple, R"({"a":1})", "validation_invalid_value");
    row("multiple blank", multiple, "[]", "[]");
    row("multiple null", multiple, "null", "[]");
    row("multiple empty string", multiple, R"("")", "[]");
    fail("required empty", required, "[]", "validation_required");
    fail("required only empty strings", required, R"([""])", "validation_required");
    row("required given", required, R"(["c"])", R"(["c"])");
}

void TestField::jsonValue_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"j","type":"json"})";
    const QByteArray small = R"({"name":"j","type":"json","maxSize":10})";
    const QByteArray required = R"({"name":"j","type":"json","required":true})";
    row("object", plain, R"({"a":[1,{"b":null}]})", R"({"a":[1,{"b":null}]})");
    row("array", plain, "[1,2]", "[1,2]");
    row("string stays a string", plain, R"("{\"a\":1}")", R"("{\"a\":1}")");
    row("number", plain, "5", "5");
    row("bool", plain, "false", "false");
    row("null", plain, "null", "null");
    row("absent is null", plain, "undefined", "null");
    row("exactly maxSize", small, R"("12345678")", R"("12345678")");
    fail("one byte over maxSize", small, R"("123456789")", "validation_json_too_large");
    fail("object over maxSize", small, R"({"a":12345})", "validation_json_too_large");
    fail("multi-byte characters count as bytes", small, R"("ééééé")", "validation_json_too_large");
    fail("default 1 MiB", plain, quoted(QByteArray(1 << 20, 'a')), "validation_json_too_large");
    fail("required null", required, "null", "validation_required");
    fail("required empty object", required, "{}", "validation_required");
    fail("required empty array", required, "[]", "validation_required");
    fail("required empty string", required, R"("")", "validation_required");
    row("required zero", required, "0", "0");
    row("required false", required, "false", "false");
}

void TestField::jsonFromForm_data()
{
    valueColumns();
    const QByteArray plain = R"({"name":"j","type":"json"})";
    const QByteArray small = R"({"name":"j","type":"json","maxSize":10})";
    row("object text", plain, R"("{\"a\":1}")", R"({"a":1})");
    row("number text", plain, R"("5")", "5");
    row("string text", plain, R"("\"s\"")", R"("s")");
    row("spaces around", plain, R"(" [1, 2] ")", "[1,2]");
    row("empty is null", plain, R"("")", "null");
    fail("not JSON", plain, R"("abc")", "validation_invalid_json");
    fail("unterminated", plain, R"("[1")", "validation_invalid_json");
    fail("two values", plain, R"("1,2")", "validation_invalid_json");
    fail("bracket injection", plain, R"("1],[2")", "validation_invalid_json");
    fail("too large before parsing", small, quoted(QByteArray(20, '1')), "validation_json_too_large");
    row("non-string form value as is", plain, "7", "7");
}

void TestField::relation_data()
{
    valueColumns();
    const QByteArray single = R"({"name":"r","type":"relation","collectionId":"pbc_123"})";
    const QByteArray multiple
        = R"({"name":"r","type":"relation","collectionId":"pbc_123","minSelect":2,"maxSelect":3})";
    const QByteArray required = R"({"name":"r","type":"relation","collectionId":"pbc_123","required":true})";
    const QByteArray a = "aaaaaaaaaaaaaaa";
    const QByteArray b = "bbbbbbbbbbbbbbb";
    const QByteArray c = "ccccccccccccccc";
    row("single", single, R"("abcdefghij12345")", R"("abcdefghij12345")");
    fail("too short", single, R"("short")", "validation_invalid_value");
    fail("upper case", single, R"("ABCDEFGHIJ12345")", "validation_invalid_value");
    fail("punctuation", single, R"("abcdefghij1234-")", "validation_invalid_value");
    row("single from an array keeps the last", single, "[\"" + a + "\",\"" + b + "\"]", quoted(b));
    row("single blank", single, R"("")", R"("")");
    fail("number", single, "5", "validation_invalid_value");
    row("multiple", multiple, "[\"" + a + "\",\"" + b + "\"]", "[\"" + a + "\",\"" + b + "\"]");
    row("duplicates removed before counting", multiple, "[\"" + a + "\",\"" + a + "\",\"" + b + "\"]",
        "[\"" + a + "\",\"" + b + "\"]");
    fail("not enough", multiple, "[\"" + a + "\"]", "validation_not_enough_values");
    fail("string is one, not enough", multiple, quoted(a), "validation_not_enough_values");
    fail("too many", multiple, "[\"" + a + "\",\"" + b + "\",\"" + c + "\",\"ddddddddddddddd\"]",
         "validation_too_many_values");
    fail("bad id in array", multiple, "[\"" + a + "\",\"nope\"]", "validation_invalid_value");
    row("blank skips minSelect", multiple, "[]", "[]");
    fail("required blank", required, R"("")", "validation_required");
    fail("required null", required, "null", "validation_required");
}

void TestField::autodate_data()
{
    valueColumns();
    const QByteArray autodate = R"({"name":"a","type":"autodate","onCreate":true})";
    row("normalised like a date", autodate, R"("2024-05-06T07:08:09Z")", R"("2024-05-06 07:08:09.000Z")");
    row("blank", autodate, "null", R"("")");
    fail("invalid", autodate, R"("nope")", "validation_invalid_date");
}

void TestField::fromJsonRefuses_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::addColumn<QString>("option");
    QTest::addColumn<QString>("code");
    const auto add = [](const char *name, const QByteArray &definition, const char *option, const char *code) {
        QTest::newRow(name) << definition << QString::fromLatin1(option) << QString::fromLatin1(code);
    };
    add("unknown type", R"({"name":"x","type":"file"})", "type", "validation_invalid_value");
    add("missing type", R"({"name":"x"})", "type", "validation_invalid_value");
    add("type not a string", R"({"name":"x","type":1})", "type", "validation_invalid_value");
    add("missing name", R"({"type":"text"})", "name", "validation_required");
    add("name starts with a digit", R"({"name":"1abc","type":"text"})", "name", "validation_match_invalid");
    add("name with a dash", R"({"name":"a-b","type":"text"})", "name", "validation_match_invalid");
    add("name with a newline", R"({"name":"ab\n","type":"text"})", "name", "validation_match_invalid");
    add("name with a quote", R"({"name":"a\"b","type":"text"})", "name", "validation_match_invalid");
    add("name of 64", "{\"name\":\"" + QByteArray(64, 'a') + "\",\"type\":\"text\"}", "name",
        "validation_match_invalid");
    add("name id", R"({"name":"id","type":"text"})", "name", "validation_not_in_invalid");
    add("required not a bool", R"({"name":"x","type":"text","required":"yes"})", "required",
        "validation_invalid_value");
    add("text min > max", R"({"name":"x","type":"text","min":5,"max":2})", "max",
        "validation_min_greater_equal_than_required");
    add("text negative min", R"({"name":"x","type":"text","min":-1})", "min", "validation_invalid_value");
    add("text fractional max", R"({"name":"x","type":"text","max":1.5})", "max", "validation_invalid_value");
    add("text min as string", R"({"name":"x","type":"text","min":"3"})", "min", "validation_invalid_value");
    add("bad pattern", R"({"name":"x","type":"text","pattern":"[a-"})", "pattern", "validation_invalid_regex");
    add("unsupported autogeneratePattern", R"({"name":"x","type":"text","autogeneratePattern":"(a|b)+"})",
        "autogeneratePattern", "validation_invalid_regex");
    add("unbounded autogeneratePattern", R"({"name":"x","type":"text","autogeneratePattern":"[a-z]+"})",
        "autogeneratePattern", "validation_invalid_regex");
    add("number min > max", R"({"name":"x","type":"number","min":5,"max":1})", "max",
        "validation_min_greater_equal_than_required");
    add("number min as string", R"({"name":"x","type":"number","min":"1"})", "min", "validation_invalid_value");
    add("email both lists", R"({"name":"x","type":"email","onlyDomains":["a.com"],"exceptDomains":["b.com"]})",
        "exceptDomains", "validation_invalid_value");
    add("email bad domain", R"({"name":"x","type":"email","onlyDomains":["not a domain"]})", "onlyDomains",
        "validation_is_domain");
    add("url domains not a list", R"({"name":"x","type":"url","exceptDomains":"example.com"})", "exceptDomains",
        "validation_invalid_value");
    add("url domains not strings", R"({"name":"x","type":"url","onlyDomains":[1]})", "onlyDomains",
        "validation_invalid_value");
    add("date bad min", R"({"name":"x","type":"date","min":"yesterday"})", "min", "validation_invalid_date");
    add("date min > max", R"({"name":"x","type":"date","min":"2024-02-01","max":"2024-01-01"})", "max",
        "validation_min_greater_equal_than_required");
    add("select no values", R"({"name":"x","type":"select"})", "values", "validation_required");
    add("select empty values", R"({"name":"x","type":"select","values":[]})", "values", "validation_required");
    add("select empty value", R"({"name":"x","type":"select","values":["a",""]})", "values",
        "validation_invalid_value");
    add("select duplicate value", R"({"name":"x","type":"select","values":["a","a"]})", "values",
        "validation_invalid_value");
    add("select maxSelect 0", R"({"name":"x","type":"select","values":["a"],"maxSelect":0})", "maxSelect",
        "validation_min_greater_equal_than_required");
    add("select maxSelect > values", R"({"name":"x","type":"select","values":["a","b"],"maxSelect":3})", "maxSelect",
        "validation_max_less_equal_than_required");
    add("relation no collection", R"({"name":"x","type":"relation"})", "collectionId", "validation_required");
    add("relation bad collection", R"({"name":"x","type":"relation","collectionId":"a b"})", "collectionId",
        "validation_invalid_value");
    add("relation maxSelect 0", R"({"name":"x","type":"relation","collectionId":"c","maxSelect":0})", "maxSelect",
        "validation_min_greater_equal_than_required");
    add("relation minSelect > maxSelect",
        R"({"name":"x","type":"relation","collectionId":"c","minSelect":3,"maxSelect":2})", "maxSelect",
        "validation_min_greater_equal_than_required");
    add("relation negative minSelect", R"({"name":"x","type":"relation","collectionId":"c","minSelect":-1})",
        "minSelect", "validation_invalid_value");
    add("json negative maxSize", R"({"name":"x","type":"json","maxSize":-1})", "maxSize", "validation_invalid_value");
    add("autodate neither", R"({"name":"x","type":"autodate"})", "onCreate", "validation_required");
}

void TestField::fromJsonRefuses()
{
    QFETCH(QByteArray, definition);
    QFETCH(QString, option);
    QFETCH(QString, code);
    const auto f = Field::fromJson(object(definition));
    QVERIFY(!f.ok());
    const Error &error = f.error();
    QCOMPARE(error.code, ErrorCode::InvalidArgument);
    QCOMPARE(error.details.value(QStringLiteral("option")).toString(), option);
    QCOMPARE(error.details.value(QStringLiteral("code")).toString(), code);
    QVERIFY2(error.message.contains(u'"' + option + u'"'), qPrintable(error.message));
    const QString name = object(definition).value(QStringLiteral("name")).toString();
    QCOMPARE(error.details.value(QStringLiteral("field")).toString(), name);
    QVERIFY2(error.message.startsWith(QStringLiteral("Field \"%1\"").arg(name)), qPrintable(error.message));
}

void TestField::fromJsonAccepts_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::newRow("system id") << QByteArray(R"({"name":"id","type":"text","system":true,"primaryKey":true})");
    QTest::newRow("system created") << QByteArray(
        R"({"name":"created","type":"autodate","system":true,"onCreate":true})");
    QTest::newRow("name of 63") << QByteArray("{\"name\":\"_" + QByteArray(62, '9') + "\",\"type\":\"bool\"}");
    QTest::newRow("null options") << QByteArray(
        R"({"name":"n","type":"number","min":null,"max":null,"required":null})");
    QTest::newRow("text max 0 with min") << QByteArray(R"({"name":"t","type":"text","min":10,"max":0})");
    QTest::newRow("unknown keys") << QByteArray(R"({"name":"t","type":"text","whatever":[1]})");
    QTest::newRow("select maxSelect = values")
        << QByteArray(R"({"name":"s","type":"select","values":["a","b"],"maxSelect":2})");
}

void TestField::fromJsonAccepts()
{
    QFETCH(QByteArray, definition);
    const auto f = Field::fromJson(object(definition));
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
}

void TestField::roundTrip_data()
{
    QTest::addColumn<QByteArray>("definition");
    const QByteArray common = R"("id":"f1","hidden":true,"presentable":false,"required":true,"system":false,)";
    QTest::newRow("text") << QByteArray("{" + common + R"("name":"title","type":"text","min":1,"max":100,)"
                                        + R"("pattern":"^\\w+$","autogeneratePattern":"[a-z]{5}","primaryKey":false})");
    QTest::newRow("number") << QByteArray("{" + common
                                          + R"("name":"n","type":"number","min":-1.5,"max":null,"onlyInt":false})");
    QTest::newRow("bool") << QByteArray("{" + common + R"("name":"b","type":"bool"})");
    QTest::newRow("email") << QByteArray(
        "{" + common + R"("name":"e","type":"email","exceptDomains":null,"onlyDomains":["a.com","b.org"]})");
    QTest::newRow("url") << QByteArray("{" + common
                                       + R"("name":"u","type":"url","exceptDomains":["x.io"],"onlyDomains":null})");
    QTest::newRow("date") << QByteArray("{" + common
                                        + R"("name":"d","type":"date","min":"2024-01-01 00:00:00.000Z","max":""})");
    QTest::newRow("select") << QByteArray("{" + common
                                          + R"("name":"s","type":"select","values":["x","y"],"maxSelect":2})");
    QTest::newRow("json") << QByteArray("{" + common + R"("name":"j","type":"json","maxSize":2000000})");
    QTest::newRow("relation") << QByteArray("{" + common + R"("name":"r","type":"relation","collectionId":"pbc_1",)"
                                            + R"("cascadeDelete":true,"minSelect":1,"maxSelect":5})");
    QTest::newRow("autodate") << QByteArray(
        R"({"id":"f2","hidden":false,"presentable":false,"required":false,)"
        R"("system":true,"name":"updated","type":"autodate","onCreate":true,"onUpdate":true})");
}

void TestField::roundTrip()
{
    QFETCH(QByteArray, definition);
    const auto f = Field::fromJson(object(definition));
    QVERIFY2(f.ok(), qPrintable(f.ok() ? QString() : f.error().message));
    QCOMPARE(f->toJson(), object(definition));
    const auto again = Field::fromJson(f->toJson());
    QVERIFY(again.ok());
    QVERIFY(*again == *f);
}

void TestField::defaultsAreSerialised()
{
    const Field text = field(R"({"name":"t","type":"text"})");
    QCOMPARE(text.toJson(), object(R"({"id":"","name":"t","type":"text","required":false,"hidden":false,
        "system":false,"presentable":false,"min":0,"max":0,"pattern":"","autogeneratePattern":"","primaryKey":false})"));
    QCOMPARE(text.effectiveMaxLength(), 5000);
    const Field date = field(R"({"name":"d","type":"date","min":"2024-05-06T09:08:09+02:00"})");
    QCOMPARE(date.minDate, QStringLiteral("2024-05-06 07:08:09.000Z")); // bounds are stored normalised
    const Field select = field(R"({"name":"s","type":"select","values":["a"]})");
    QCOMPARE(select.maxSelect, 1);
    QCOMPARE(field(R"({"name":"j","type":"json"})").effectiveMaxSize(), qint64(1) << 20);
}

void TestField::multipleAndSqlType_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::addColumn<bool>("multiple");
    QTest::addColumn<QString>("sqlType");
    const auto add = [](const char *name, const QByteArray &definition, bool multiple, const char *type) {
        QTest::newRow(name) << definition << multiple << QString::fromLatin1(type);
    };
    add("text", R"({"name":"x","type":"text"})", false, "TEXT");
    add("number", R"({"name":"x","type":"number"})", false, "REAL");
    add("integer number", R"({"name":"x","type":"number","onlyInt":true})", false, "REAL");
    add("bool", R"({"name":"x","type":"bool"})", false, "INTEGER");
    add("email", R"({"name":"x","type":"email"})", false, "TEXT");
    add("url", R"({"name":"x","type":"url"})", false, "TEXT");
    add("date", R"({"name":"x","type":"date"})", false, "TEXT");
    add("single select", R"({"name":"x","type":"select","values":["a","b"]})", false, "TEXT");
    add("multiple select", R"({"name":"x","type":"select","values":["a","b"],"maxSelect":2})", true, "TEXT");
    add("json", R"({"name":"x","type":"json"})", false, "TEXT");
    add("single relation", R"({"name":"x","type":"relation","collectionId":"c"})", false, "TEXT");
    add("multiple relation", R"({"name":"x","type":"relation","collectionId":"c","maxSelect":9})", true, "TEXT");
    add("autodate", R"({"name":"x","type":"autodate","onCreate":true})", false, "TEXT");
}

void TestField::multipleAndSqlType()
{
    QFETCH(QByteArray, definition);
    QFETCH(bool, multiple);
    QFETCH(QString, sqlType);
    const Field f = field(definition);
    QCOMPARE(f.isMultiple(), multiple);
    QCOMPARE(f.sqlType(), sqlType);
}

void TestField::generatedValuesMatch_data()
{
    QTest::addColumn<QString>("pattern");
    QTest::newRow("PocketBase id") << QStringLiteral("[a-z0-9]{15}");
    QTest::newRow("anchored") << QStringLiteral("^[A-F0-9]{4}-\\d{2}$");
    QTest::newRow("range of lengths") << QStringLiteral("x[ab_]{2,6}y?");
    QTest::newRow("word characters") << QStringLiteral("\\w{30}");
    QTest::newRow("escaped literal") << QStringLiteral("a\\.b\\-[\\d]{3}");
}

void TestField::generatedValuesMatch()
{
    QFETCH(QString, pattern);
    QVERIFY(Formats::canGenerate(pattern));
    const QRegularExpression re(QRegularExpression::anchoredPattern(pattern));
    QVERIFY(re.isValid());
    for (int i = 0; i < 50; ++i) {
        const QString value = Formats::generate(pattern);
        QVERIFY2(re.match(value).hasMatch(), qPrintable(value));
    }
}

void TestField::createFillsEveryField()
{
    const ManualClock clock(kStartMs);
    const auto record = validateRecord(
        collection(),
        object(R"({"title":"Hello","count":"3","tags":["a","a"],"bogus":1,"created":"2000-01-01","updated":"x"})"),
        Mode::Create, clock);
    QVERIFY2(record.ok(), qPrintable(record.ok() ? QString() : record.error().message));
    const QString id = record->value(QStringLiteral("id")).toString();
    QVERIFY2(QRegularExpression(QStringLiteral("\\A[a-z0-9]{15}\\z")).match(id).hasMatch(), qPrintable(id));
    QJsonObject expected = object(R"({"title":"Hello","count":3,"contact":"","tags":["a"],"meta":null,
        "created":"2023-11-14 22:13:20.000Z","updated":"2023-11-14 22:13:20.000Z","touched":""})");
    expected.insert(QStringLiteral("id"), id);
    QCOMPARE(*record, expected); // unknown keys dropped, submitted autodates ignored
    const auto other = validateRecord(collection(), object(R"({"title":"x"})"), Mode::Create, clock);
    QVERIFY(other.ok());
    QVERIFY(other->value(QStringLiteral("id")) != record->value(QStringLiteral("id")));
}

void TestField::createReportsEveryFailingField()
{
    const ManualClock clock(kStartMs);
    const auto record = validateRecord(
        collection(), object(R"({"id":"BAD","count":1.5,"contact":"nope","tags":["a","z"],"meta":{}})"), Mode::Create,
        clock);
    QVERIFY(!record.ok());
    QCOMPARE(record.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(record.error().message, QStringLiteral("Failed to create record."));
    const QJsonObject fields = record.error().details.value(QStringLiteral("fields")).toObject();
    QCOMPARE(fields.keys(),
             (QStringList {QStringLiteral("contact"), QStringLiteral("count"), QStringLiteral("id"),
                           QStringLiteral("tags"), QStringLiteral("title")}));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("id")), QStringLiteral("validation_min_text_constraint"));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("title")), QStringLiteral("validation_required"));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("count")), QStringLiteral("validation_only_int_constraint"));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("contact")), QStringLiteral("validation_is_email"));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("tags")), QStringLiteral("validation_invalid_value"));
    QVERIFY(!fields.value(QStringLiteral("title"))[QStringLiteral("message")].toString().isEmpty());
}

void TestField::createKeepsAValidCustomId()
{
    const ManualClock clock(kStartMs);
    const auto record
        = validateRecord(collection(), object(R"({"id":"abcdefghij12345","title":"t"})"), Mode::Create, clock);
    QVERIFY(record.ok());
    QCOMPARE(record->value(QStringLiteral("id")).toString(), QStringLiteral("abcdefghij12345"));
    const auto bad
        = validateRecord(collection(), object(R"({"id":"abcdefghij1234_","title":"t"})"), Mode::Create, clock);
    QVERIFY(!bad.ok());
    QCOMPARE(fieldCode(bad.error(), QStringLiteral("id")), QStringLiteral("validation_invalid_format"));
}

void TestField::updateIsPartial()
{
    ManualClock clock(kStartMs);
    clock.advanceMs(1500);
    const auto record = validateRecord(collection(), object(R"({"count":"4","id":"zzzzzzzzzzzzzzz","bogus":true})"),
                                       Mode::Update, clock);
    QVERIFY2(record.ok(), qPrintable(record.ok() ? QString() : record.error().message));
    // Only the submitted field and the onUpdate autodates; the id, `created` and absent fields are untouched.
    QCOMPARE(*record,
             object(R"({"count":4,"updated":"2023-11-14 22:13:21.500Z","touched":"2023-11-14 22:13:21.500Z"})"));
}

void TestField::updateMayNotBlankRequired()
{
    const ManualClock clock(kStartMs);
    for (const QByteArray &input : {QByteArray(R"({"title":""})"), QByteArray(R"({"title":null})")}) {
        const auto record = validateRecord(collection(), object(input), Mode::Update, clock);
        QVERIFY(!record.ok());
        QCOMPARE(record.error().message, QStringLiteral("Failed to update record."));
        QCOMPARE(fieldCode(record.error(), QStringLiteral("title")), QStringLiteral("validation_required"));
    }
    const auto cleared = validateRecord(collection(), object(R"({"contact":"","tags":[]})"), Mode::Update, clock);
    QVERIFY(cleared.ok()); // optional fields may be cleared
    QCOMPARE(cleared->value(QStringLiteral("tags")), QJsonValue(QJsonArray()));
}

void TestField::updateReportsEveryFailingField()
{
    const ManualClock clock(kStartMs);
    const auto record = validateRecord(collection(), object(R"({"title":"far too long","tags":"q","meta":"ok"})"),
                                       Mode::Update, clock);
    QVERIFY(!record.ok());
    const QJsonObject fields = record.error().details.value(QStringLiteral("fields")).toObject();
    QCOMPARE(fields.size(), 2);
    QCOMPARE(fieldCode(record.error(), QStringLiteral("title")), QStringLiteral("validation_max_text_constraint"));
    QCOMPARE(fieldCode(record.error(), QStringLiteral("tags")), QStringLiteral("validation_invalid_value"));
}

void TestField::formDataRecord()
{
    const ManualClock clock(kStartMs);
    const QJsonObject input = object(R"({"title":"t","count":"2","meta":"{\"k\":[1]}"})");
    const auto form = validateRecord(collection(), input, Mode::Update, clock, InputSource::FormData);
    QVERIFY(form.ok());
    QCOMPARE(form->value(QStringLiteral("meta")), json(R"({"k":[1]})"));
    const auto body = validateRecord(collection(), input, Mode::Update, clock);
    QVERIFY(body.ok());
    QCOMPARE(body->value(QStringLiteral("meta")), json(R"("{\"k\":[1]}")"));
    const auto bad
        = validateRecord(collection(), object(R"({"meta":"{"})"), Mode::Update, clock, InputSource::FormData);
    QVERIFY(!bad.ok());
    QCOMPARE(fieldCode(bad.error(), QStringLiteral("meta")), QStringLiteral("validation_invalid_json"));
}

QTEST_GUILESS_MAIN(TestField)
#include "tst_field.moc"
