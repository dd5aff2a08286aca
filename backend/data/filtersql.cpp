#include "filtersql.h"

#include <QLocale>

namespace Outpost::Data {

namespace {

// Appends text and operands in one go so that parameters always follow their "?" in order.
class SqlBuilder
{
public:
    SqlBuilder &text(QStringView text)
    {
        m_fragment.sql += text;
        return *this;
    }
    SqlBuilder &operand(const FilterOperand &operand)
    {
        m_fragment.sql += operand.sql;
        if (operand.isValue)
            m_fragment.params.append(operand.value);
        return *this;
    }
    SqlBuilder &fragment(const SqlFragment &fragment)
    {
        m_fragment.sql += fragment.sql;
        m_fragment.params += fragment.params;
        return *this;
    }
    bool isEmpty() const { return m_fragment.sql.isEmpty(); }
    SqlFragment take() { return std::move(m_fragment); }

private:
    SqlFragment m_fragment;
};

bool isEmptyValue(const FilterOperand &operand)
{
    return operand.isValue && !operand.multiple
        && (!operand.value.isValid()
            || (operand.value.typeId() == QMetaType::QString && operand.value.toString().isEmpty()));
}

bool isNonEmptyValue(const FilterOperand &operand)
{
    return operand.isValue && !isEmptyValue(operand);
}

// PocketBase's resolveEqualExpr: NULL and '' are the same "empty", and "!=" is IS NOT so that comparing a
// NULL column with a value yields true instead of NULL.
SqlFragment equality(bool equal, const FilterOperand &left, const FilterOperand &right)
{
    const QStringView op = equal ? u" = " : u" IS NOT ";
    const bool leftEmpty = isEmptyValue(left);
    const bool rightEmpty = isEmptyValue(right);
    SqlBuilder sql;
    if (leftEmpty && rightEmpty)
        return sql.text(u"''").text(op).text(u"''").take();
    if (isNonEmptyValue(left) || isNonEmptyValue(right)) {
        // One side is a known non-empty value: a plain comparison already treats NULL as "not equal".
        const auto side = [&sql](const FilterOperand &operand, bool empty) {
            if (empty)
                sql.text(u"''");
            else
                sql.operand(operand);
        };
        side(left, leftEmpty);
        sql.text(op);
        side(right, rightEmpty);
        return sql.take();
    }
    if (leftEmpty || rightEmpty) {
        const FilterOperand &field = leftEmpty ? right : left;
        sql.text(u"(").operand(field).text(op).text(u"''");
        sql.text(equal ? u" OR " : u" AND ").operand(field).text(equal ? u" IS NULL)" : u" IS NOT NULL)");
        return sql.take();
    }
    sql.text(u"COALESCE(").operand(left).text(u", '')").text(op);
    return sql.text(u"COALESCE(").operand(right).text(u", '')").take();
}

// How PocketBase turns a bound value into LIKE text (cast.ToString): NULL is the empty string.
QString likeText(const QVariant &value)
{
    if (value.typeId() == QMetaType::Double)
        return QString::number(value.toDouble(), 'f', QLocale::FloatingPointShortest);
    return value.toString();
}

SqlFragment like(bool positive, const FilterOperand &left, const FilterOperand &right)
{
    SqlBuilder sql;
    sql.operand(left).text(positive ? u" LIKE " : u" NOT LIKE ");
    if (right.isValue)
        sql.operand(valueOperand(likePattern(likeText(right.value))));
    else
        sql.text(u"('%' || ").operand(right).text(u" || '%')");
    return sql.text(u" ESCAPE '\\'").take();
}

SqlFragment binary(const FilterOperand &left, QStringView op, const FilterOperand &right)
{
    return SqlBuilder().operand(left).text(op).operand(right).take();
}

SqlFragment compareSingle(FilterOp op, const FilterOperand &left, const FilterOperand &right)
{
    switch (op) {
    case FilterOp::Equal:
    case FilterOp::NotEqual:
        return equality(op == FilterOp::Equal, left, right);
    case FilterOp::Like:
    case FilterOp::NotLike:
        return like(op == FilterOp::Like, left, right);
    case FilterOp::Greater:
        return binary(left, u" > ", right);
    case FilterOp::GreaterOrEqual:
        return binary(left, u" >= ", right);
    case FilterOp::Less:
        return binary(left, u" < ", right);
    case FilterOp::LessOrEqual:
        return binary(left, u" <= ", right);
    }
    Q_UNREACHABLE();
    return {};
}

// Adds `json_each(<array>) AS __jeN` to from and returns the element as an operand. An empty array or NULL
// iterates as [null], as PocketBase's LEFT JOIN over json_each yields one NULL row for it.
FilterOperand eachElement(const FilterOperand &operand, SqlBuilder &from, int alias)
{
    const QString name = QStringLiteral("__je%1").arg(alias);
    if (!from.isEmpty())
        from.text(u", ");
    from.text(u"json_each(");
    if (operand.isValue) {
        from.operand(operand);
    } else {
        from.text(u"CASE WHEN json_array_length(").operand(operand).text(u") > 0 THEN ").operand(operand);
        from.text(u" ELSE '[null]' END");
    }
    from.text(u") AS ").text(name);
    return fieldOperand(name + u".value", false);
}

} // namespace

FilterOperand fieldOperand(QString sqlExpression, bool multiple)
{
    return FilterOperand {std::move(sqlExpression), QVariant(), false, multiple};
}

FilterOperand valueOperand(QVariant value)
{
    return FilterOperand {QStringLiteral("?"), std::move(value), true, false};
}

FilterOperand arrayOperand(const QString &jsonArray, bool isEmpty)
{
    return FilterOperand {QStringLiteral("?"), isEmpty ? QStringLiteral("[null]") : jsonArray, true, true};
}

SqlFragment compareOperands(FilterOperator op, const FilterOperand &left, const FilterOperand &right, int &aliasCounter)
{
    if (!left.multiple && !right.multiple)
        return compareSingle(op.op, left, right);
    SqlBuilder from;
    const FilterOperand leftElement = left.multiple ? eachElement(left, from, ++aliasCounter) : left;
    const FilterOperand rightElement = right.multiple ? eachElement(right, from, ++aliasCounter) : right;
    const SqlFragment condition = compareSingle(op.op, leftElement, rightElement);
    SqlBuilder sql;
    if (op.anyOf) {
        sql.text(u"EXISTS (SELECT 1 FROM ").fragment(from.take()).text(u" WHERE ").fragment(condition);
        return sql.text(u")").take();
    }
    // Every element: no element for which the condition is false or NULL.
    sql.text(u"NOT EXISTS (SELECT 1 FROM ").fragment(from.take()).text(u" WHERE (").fragment(condition);
    return sql.text(u") IS NOT 1)").take();
}

QString likePattern(const QString &value)
{
    if (value.contains(u'%'))
        return value;
    // A '\' or '_' gets a backslash unless a backslash already escapes it. PocketBase's escapeUnescapedChars
    // means the same but leaves the first of two adjacent underscores unescaped; we escape both.
    QString pattern = QStringLiteral("%");
    for (qsizetype i = 0; i < value.size(); ++i) {
        const QChar c = value[i];
        const QChar next = i + 1 < value.size() ? value[i + 1] : QChar();
        if (c == u'\\' && (next == u'\\' || next == u'_')) {
            pattern += c;
            pattern += next;
            ++i;
            continue;
        }
        if (c == u'\\' || c == u'_')
            pattern += u'\\';
        pattern += c;
    }
    return pattern + u'%';
}

} // namespace Outpost::Data
