#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "core/clock.h"
#include "data/collections.h"
#include "store/store.h"

using namespace Outpost;
using Outpost::Data::Collection;
using Outpost::Data::Collections;
using Outpost::Store::Database;

namespace {

QJsonObject parse(const char *json)
{
    return QJsonDocument::fromJson(QByteArray(json)).object();
}

QJsonObject postsDefinition()
{
    return parse(R"j({"name": "posts", "fields": [
        {"name": "title", "type": "text", "max": 20},
        {"name": "views", "type": "number"},
        {"name": "tags", "type": "select", "values": ["a", "b"], "maxSelect": 2}],
        "indexes": ["CREATE UNIQUE INDEX `idx_posts_title` ON `posts` (`title`)",
                    "CREATE INDEX idx_posts_views ON posts (views DESC, title)"],
        "listRule": "", "viewRule": null})j");
}

QJsonObject problem(const Error &error, const QString &key)
{
    return error.details.value(QStringLiteral("fields")).toObject().value(key).toObject();
}

} // namespace

class TestCollections : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();

    void createListGetRemove();
    void createMakesTableAndIndexes();
    void refusesBadDefinitions_data();
    void refusesBadDefinitions();
    void refusesDuplicateName();
    void addsFieldToTableWithRows();
    void renamesFieldKeepingData();
    void changesTypeWithConversion();
    void refusesShrinkingBelowExistingValues();
    void renamesCollection();
    void removeDropsTable();

private:
    QStringList columns(const QString &table);
    QStringList indexes(const QString &table);
    QStringList userTables();
    void insertPost(const QString &id, const QString &title);
    QString queryText(const QString &sql);

    std::unique_ptr<QTemporaryDir> m_dir;
    std::unique_ptr<Store::Store> m_store;
    ManualClock m_clock;
    std::unique_ptr<Collections> m_collections;
};

void TestCollections::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    auto store = Store::Store::open(Store::Store::Options {m_dir->path(), Durability::Normal});
    QVERIFY2(store.ok(), qPrintable(store.ok() ? QString() : store.error().message));
    m_store = std::move(store).value();
    m_collections = std::make_unique<Collections>(*m_store, m_clock);
}

void TestCollections::cleanup()
{
    m_collections.reset();
    m_store.reset();
    m_dir.reset();
}

QStringList TestCollections::columns(const QString &table)
{
    QStringList result;
    Status s = m_store->read([&](Database &db) -> Status {
        auto stmt = db.prepare("SELECT name, type FROM pragma_table_info(?) ORDER BY cid");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, table);
        while (stmt->step().value())
            result.append(stmt->text(0) + u' ' + stmt->text(1));
        return {};
    });
    return s ? result : QStringList {QStringLiteral("error")};
}

QStringList TestCollections::indexes(const QString &table)
{
    QStringList result;
    Status s = m_store->read([&](Database &db) -> Status {
        auto stmt = db.prepare("SELECT name, \"unique\" FROM pragma_index_list(?) WHERE origin = 'c' ORDER BY name");
        if (!stmt)
            return stmt.error();
        stmt->bind(1, table);
        while (stmt->step().value())
            result.append(stmt->text(0) + (stmt->int64(1) ? QStringLiteral(" unique") : QString()));
        return {};
    });
    return s ? result : QStringList {QStringLiteral("error")};
}

QStringList TestCollections::userTables()
{
    QStringList result;
    Status s = m_store->read([&](Database &db) -> Status {
        auto stmt = db.prepare("SELECT name FROM sqlite_master WHERE name NOT LIKE '\\_%' ESCAPE '\\'"
                               " AND name NOT LIKE 'sqlite%' AND name <> 'schema_version' ORDER BY name");
        if (!stmt)
            return stmt.error();
        while (stmt->step().value())
            result.append(stmt->text(0));
        return {};
    });
    return s ? result : QStringList {QStringLiteral("error")};
}

QString TestCollections::queryText(const QString &sql)
{
    QString result;
    Status s = m_store->read([&](Database &db) -> Status {
        auto stmt = db.prepare(sql.toUtf8().constData());
        if (!stmt)
            return stmt.error();
        QStringList rows;
        while (stmt->step().value())
            rows.append(stmt->text(0));
        result = rows.join(u'|');
        return {};
    });
    return s ? result : s.error().message;
}

void TestCollections::insertPost(const QString &id, const QString &title)
{
    Status s = m_store->write([&](Database &db) -> Status {
        auto stmt = db.prepare("INSERT INTO posts(id, title, views) VALUES (?, ?, 7)");
        if (!stmt)
            return stmt.error();
        return stmt->bind(1, id).bind(2, title).run();
    });
    QVERIFY2(s.ok(), qPrintable(s.ok() ? QString() : s.error().message));
}

void TestCollections::createListGetRemove()
{
    auto created = m_collections->create(postsDefinition());
    QVERIFY2(created.ok(), qPrintable(created.ok() ? QString() : created.error().message));
    QVERIFY(created->id.startsWith(QStringLiteral("pbc_")));
    QCOMPARE(created->type, QStringLiteral("base"));
    QCOMPARE(created->created, QStringLiteral("2023-11-14 22:13:20.000Z"));
    QCOMPARE(created->listRule, std::optional<QString>(QString()));
    QCOMPARE(created->viewRule, std::nullopt);
    QStringList names;
    for (const auto &f : created->fields)
        names.append(f.name);
    QCOMPARE(names, (QStringList {u"id"_qs, u"title"_qs, u"views"_qs, u"tags"_qs, u"created"_qs, u"updated"_qs}));
    QVERIFY(created->fields[0].primaryKey);
    QCOMPARE(created->fields[0].autogeneratePattern, QStringLiteral("[a-z0-9]{15}"));
    QVERIFY(!created->fields[1].id.isEmpty());

    auto list = m_collections->list();
    QVERIFY(list.ok());
    QCOMPARE(list->size(), 1);
    QCOMPARE(list->first().toJson(), created->toJson());
    auto byName = m_collections->get(QStringLiteral("POSTS"));
    QVERIFY(byName.ok());
    QCOMPARE(byName->toJson(), created->toJson());
    auto byId = m_collections->get(created->id);
    QVERIFY(byId.ok());
    QCOMPARE(byId->name, QStringLiteral("posts"));
    QCOMPARE(m_collections->get(QStringLiteral("nope")).error().code, ErrorCode::NotFound);
    const QJsonArray indexJson = created->toJson().value(u"indexes").toArray();
    QCOMPARE(indexJson.at(1).toString(),
             QStringLiteral("CREATE INDEX `idx_posts_views` ON `posts` (`views` DESC, `title`)"));

    QVERIFY(m_collections->remove(created->id).ok());
    QCOMPARE(m_collections->list()->size(), 0);
    QCOMPARE(m_collections->remove(created->id).error().code, ErrorCode::NotFound);
}

void TestCollections::createMakesTableAndIndexes()
{
    QVERIFY(m_collections->create(postsDefinition()).ok());
    QCOMPARE(columns(QStringLiteral("posts")),
             (QStringList {u"id TEXT"_qs, u"title TEXT"_qs, u"views REAL"_qs, u"tags TEXT"_qs, u"created TEXT"_qs,
                           u"updated TEXT"_qs}));
    QCOMPARE(indexes(QStringLiteral("posts")), (QStringList {u"idx_posts_title unique"_qs, u"idx_posts_views"_qs}));
    QCOMPARE(queryText(QStringLiteral("SELECT type FROM _collections")), QStringLiteral("base"));
}

void TestCollections::refusesBadDefinitions_data()
{
    QTest::addColumn<QByteArray>("definition");
    QTest::addColumn<QString>("key");
    QTest::addColumn<QString>("code");
    QTest::newRow("blank name") << QByteArray(R"j({"name": ""})j") << u"name"_qs << u"validation_required"_qs;
    QTest::newRow("digit first") << QByteArray(R"j({"name": "1posts"})j") << u"name"_qs
                                 << u"validation_invalid_name"_qs;
    QTest::newRow("quote") << QByteArray(R"j({"name": "a\"b"})j") << u"name"_qs << u"validation_invalid_name"_qs;
    QTest::newRow("underscore") << QByteArray(R"j({"name": "_x"})j") << u"name"_qs << u"validation_invalid_name"_qs;
    QTest::newRow("sqlite_") << QByteArray(R"j({"name": "sqlite_x"})j") << u"name"_qs << u"validation_invalid_name"_qs;
    QTest::newRow("not base") << QByteArray(R"j({"name": "p", "type": "view"})j") << u"type"_qs
                              << u"validation_invalid_value"_qs;
    QTest::newRow("bad field type") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"},
        {"name": "b", "type": "file"}]})j")
                                    << u"fields.1.type"_qs << u"validation_invalid_value"_qs;
    QTest::newRow("bad field name") << QByteArray(R"j({"name": "p", "fields": [{"name": "a b", "type": "text"}]})j")
                                    << u"fields.0.name"_qs << u"validation_match_invalid"_qs;
    QTest::newRow("duplicate field") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"},
        {"name": "b", "type": "text"}, {"name": "A", "type": "bool"}]})j")
                                     << u"fields.2.name"_qs << u"validation_duplicated_field_name"_qs;
    QTest::newRow("created not autodate")
        << QByteArray(R"j({"name": "p", "fields": [{"name": "created", "type": "text"}]})j") << u"fields.0.type"_qs
        << u"validation_invalid_value"_qs;
    QTest::newRow("reserved field") << QByteArray(R"j({"name": "p", "fields": [{"name": "id", "type": "bool"}]})j")
                                    << u"fields.0.name"_qs << u"validation_not_in_invalid"_qs;
    QTest::newRow("rule type") << QByteArray(R"j({"name": "p", "listRule": 1})j") << u"listRule"_qs
                               << u"validation_invalid_value"_qs;
    const QString badIndex = QStringLiteral("validation_invalid_index_expression");
    QTest::newRow("index injection") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"}],
        "indexes": ["CREATE INDEX x ON p (a); DROP TABLE y"]})j")
                                     << u"indexes.0"_qs << badIndex;
    QTest::newRow("index quote") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"}],
        "indexes": ["CREATE INDEX `x\"` ON p (a)"]
})j") << u"indexes.0"_qs << badIndex;
    QTest::newRow("index where") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"}],
        "indexes": ["CREATE INDEX x ON p (a) WHERE 1"]})j")
                                 << u"indexes.0"_qs << badIndex;
    QTest::newRow("index expression") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"}],
        "indexes": ["CREATE INDEX x ON p (lower(a))"]
    })j") << u"indexes.0"_qs << badIndex;
    QTest::newRow("index other table") << QByteArray(R"j({"name": "p", "fields": [{"name": "a", "type": "text"}],
        "indexes": ["CREATE INDEX x ON _superusers (email)"]
    })j") << u"indexes.0"_qs << badIndex;
    QTest::newRow("index unknown column") << QByteArray(R"j({"name": "p", "indexes": ["CREATE INDEX x ON p (nope)"]
    })j") << u"indexes.0"_qs << badIndex;
}

void TestCollections::refusesBadDefinitions()
{
    QFETCH(QByteArray, definition);
    QFETCH(QString, key);
    QFETCH(QString, code);
    auto result = m_collections->create(QJsonDocument::fromJson(definition).object());
    QVERIFY(!result.ok());
    QCOMPARE(result.error().code, ErrorCode::InvalidArgument);
    QCOMPARE(problem(result.error(), key).value(u"code").toString(), code);
    QCOMPARE(m_collections->list()->size(), 0);
    QCOMPARE(userTables(), QStringList());
}

void TestCollections::refusesDuplicateName()
{
    QVERIFY(m_collections->create(postsDefinition()).ok());
    auto again = m_collections->create(parse(R"j({"name": "Posts"})j"));
    QVERIFY(!again.ok());
    QCOMPARE(problem(again.error(), u"name"_qs).value(u"code").toString(), u"validation_collection_name_exists"_qs);
    // An index name taken by another collection is refused before anything is written.
    auto clash = m_collections->create(parse(R"j({"name": "other", "fields": [{"name": "title", "type": "text"}],
        "indexes": ["CREATE INDEX idx_posts_title ON other (title)"]
    })j"));
    QVERIFY(!clash.ok());
    QCOMPARE(problem(clash.error(), u"indexes.0"_qs).value(u"code").toString(), u"validation_index_name_exists"_qs);
    QCOMPARE(userTables(), (QStringList {u"idx_posts_title"_qs, u"idx_posts_views"_qs, u"posts"_qs}));
    QCOMPARE(m_collections->list()->size(), 1);
}

void TestCollections::addsFieldToTableWithRows()
{
    auto created = m_collections->create(postsDefinition());
    QVERIFY(created.ok());
    insertPost(u"aaaaaaaaaaaaaaa"_qs, u"hello"_qs);
    QJsonArray fields = created->toJson().value(u"fields").toArray();
    fields.append(parse(R"j({"name": "published", "type": "bool"})j"));
    auto updated = m_collections->update(u"posts"_qs, QJsonObject {{u"fields"_qs, fields}});
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QVERIFY(columns(u"posts"_qs).contains(u"published INTEGER"_qs));
    QCOMPARE(queryText(u"SELECT title || ':' || published FROM posts"_qs), u"hello:0"_qs);
    QCOMPARE(m_collections->get(u"posts"_qs)->fields.size(), 7);
    QCOMPARE(indexes(u"posts"_qs).size(), 2);
}

void TestCollections::renamesFieldKeepingData()
{
    auto created = m_collections->create(postsDefinition());
    QVERIFY(created.ok());
    insertPost(u"aaaaaaaaaaaaaaa"_qs, u"hello"_qs);
    QJsonArray fields = created->toJson().value(u"fields").toArray();
    QJsonObject title = fields.at(1).toObject();
    title.insert(u"name"_qs, u"headline"_qs);
    fields.replace(1, title);
    fields.removeAt(3); // tags
    const QJsonArray newIndexes {u"CREATE INDEX idx_headline ON posts (headline)"_qs};
    auto updated
        = m_collections->update(created->id, QJsonObject {{u"fields"_qs, fields}, {u"indexes"_qs, newIndexes}});
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QCOMPARE(
        columns(u"posts"_qs),
        (QStringList {u"id TEXT"_qs, u"headline TEXT"_qs, u"views REAL"_qs, u"created TEXT"_qs, u"updated TEXT"_qs}));
    QCOMPARE(queryText(u"SELECT id || ':' || headline || ':' || views FROM posts"_qs), u"aaaaaaaaaaaaaaa:hello:7.0"_qs);
    QCOMPARE(indexes(u"posts"_qs), QStringList {u"idx_headline"_qs});
    QCOMPARE(updated->fieldById(title.value(u"id").toString())->name, u"headline"_qs);
}

void TestCollections::changesTypeWithConversion()
{
    auto created = m_collections->create(parse(R"j({"name": "items", "fields": [{"name": "qty", "type": "text"}]})j"));
    QVERIFY(created.ok());
    QVERIFY(m_store->write([](Database &db) { return db.exec("INSERT INTO items(id, qty) VALUES ('a', '42')"); }).ok());
    QJsonArray fields = created->toJson().value(u"fields").toArray();
    const QJsonObject qty {
        {u"id"_qs, fields.at(1).toObject().value(u"id")}, {u"name"_qs, u"qty"_qs}, {u"type"_qs, u"number"_qs}};
    fields.replace(1, qty);
    auto updated = m_collections->update(u"items"_qs, QJsonObject {{u"fields"_qs, fields}});
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QVERIFY(columns(u"items"_qs).contains(u"qty REAL"_qs));
    QCOMPARE(queryText(u"SELECT typeof(qty) || ':' || qty FROM items"_qs), u"real:42.0"_qs);
}

void TestCollections::refusesShrinkingBelowExistingValues()
{
    auto created = m_collections->create(postsDefinition());
    QVERIFY(created.ok());
    insertPost(u"aaaaaaaaaaaaaaa"_qs, u"short"_qs);
    insertPost(u"bbbbbbbbbbbbbbb"_qs, u"much longer one"_qs);
    insertPost(u"ccccccccccccccc"_qs, u"another long"_qs);
    const QStringList columnsBefore = columns(u"posts"_qs);
    const QString definitionBefore = queryText(u"SELECT definition FROM _collections"_qs);

    QJsonArray fields = created->toJson().value(u"fields").toArray();
    QJsonObject title = fields.at(1).toObject();
    title.insert(u"max"_qs, 6);
    title.insert(u"name"_qs, u"heading"_qs); // would also rebuild: must be rolled back too
    fields.replace(1, title);
    fields.append(parse(R"j({"name": "extra", "type": "text"})j"));
    auto updated
        = m_collections->update(u"posts"_qs, QJsonObject {{u"fields"_qs, fields}, {u"name"_qs, u"articles"_qs}});
    QVERIFY(!updated.ok());
    QCOMPARE(updated.error().code, ErrorCode::InvalidArgument);
    QVERIFY2(updated.error().details.contains(u"records"_qs),
             QJsonDocument(updated.error().details).toJson().constData());
    QCOMPARE(updated.error().details.value(u"field").toString(), u"heading"_qs);
    QCOMPARE(updated.error().details.value(u"records").toArray(),
             (QJsonArray {u"bbbbbbbbbbbbbbb"_qs, u"ccccccccccccccc"_qs}));
    QCOMPARE(problem(updated.error(), u"fields.1"_qs).value(u"records").toArray().size(), 2);

    QCOMPARE(columns(u"posts"_qs), columnsBefore);
    QCOMPARE(userTables().contains(u"articles"_qs), false);
    QCOMPARE(queryText(u"SELECT definition FROM _collections"_qs), definitionBefore);
    QCOMPARE(queryText(u"SELECT title FROM posts ORDER BY id"_qs), u"short|much longer one|another long"_qs);
    QCOMPARE(indexes(u"posts"_qs).size(), 2);
}

void TestCollections::renamesCollection()
{
    QVERIFY(m_collections->create(postsDefinition()).ok());
    insertPost(u"aaaaaaaaaaaaaaa"_qs, u"hello"_qs);
    auto updated = m_collections->update(u"posts"_qs, QJsonObject {{u"name"_qs, u"articles"_qs}});
    QVERIFY2(updated.ok(), qPrintable(updated.ok() ? QString() : updated.error().message));
    QCOMPARE(queryText(u"SELECT title FROM articles"_qs), u"hello"_qs);
    QCOMPARE(indexes(u"articles"_qs).size(), 2);
    QVERIFY(updated->indexes[0].toString().contains(u"ON `articles`"_qs));
    QCOMPARE(m_collections->get(u"posts"_qs).error().code, ErrorCode::NotFound);
    QCOMPARE(queryText(u"SELECT name FROM _collections"_qs), u"articles"_qs);
}

void TestCollections::removeDropsTable()
{
    QVERIFY(m_collections->create(postsDefinition()).ok());
    insertPost(u"aaaaaaaaaaaaaaa"_qs, u"hello"_qs);
    QVERIFY(m_collections->remove(u"posts"_qs).ok());
    QCOMPARE(userTables(), QStringList());
    QCOMPARE(queryText(u"SELECT count(*) FROM _collections"_qs), u"0"_qs);
    // The name is free again.
    QVERIFY(m_collections->create(postsDefinition()).ok());
}

QTEST_GUILESS_MAIN(TestCollections)
#include "tst_collections.moc"
