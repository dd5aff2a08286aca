// The console against a real server: a fresh data directory, a free loopback port, real HTTP.
#include <QCheckBox>
#include <QDialogButtonBox>
#include <QHeaderView>
#include <QJsonArray>
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QMessageBox>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "auth/superusers.h"
#include "collectionspage.h"
#include "dashboardpage.h"
#include "data/collections.h"
#include "data/records.h"
#include "firstrundialog.h"
#include "mainwindow.h"
#include "recorddialog.h"
#include "server/server.h"
#include "settingspage.h"
#include "store/auditlog.h"
#include "store/store.h"

using namespace Outpost;
using namespace Outpost::Console;

namespace {

template <typename T> T *child(const QObject *parent, const char *objectName)
{
    return parent->findChild<T *>(QString::fromLatin1(objectName));
}

quint64 counterValue(const QLabel *label)
{
    return QLocale().toULongLong(label->text());
}

QJsonObject field(const QString &name, const QString &type, QJsonObject options = {})
{
    options.insert(QStringLiteral("name"), name);
    options.insert(QStringLiteral("type"), type);
    return options;
}

// Records `title 0`..`title N-1` with views 0..N-1, in one transaction through the services.
Status createPosts(Server &server, const QString &collection, int count)
{
    auto snapshot = server.collections().snapshot();
    if (!snapshot)
        return snapshot.error();
    const Data::Collection *c = (*snapshot)->find(collection);
    if (!c)
        return makeError(ErrorCode::NotFound, collection);
    return server.store().write([&](Store::Database &db) -> Status {
        for (int i = 0; i < count; ++i) {
            const QJsonObject body {{QStringLiteral("title"), QStringLiteral("title %1").arg(i)},
                                    {QStringLiteral("views"), i}};
            auto created = server.records().create(db, **snapshot, *c, body, {}, Data::Access {true, {}});
            if (!created)
                return created.error();
        }
        return {};
    });
}

QStringList listedCollections(const QWidget *page)
{
    QStringList names;
    const auto *list = child<QListWidget>(page, "collectionList");
    for (int row = 0; row < list->count(); ++row)
        names.append(list->item(row)->text());
    return names;
}

QString pageText(const QWidget *page)
{
    return child<QLabel>(page, "pageLabel")->text();
}

void selectCollection(QWidget *page, const QString &name)
{
    auto *list = child<QListWidget>(page, "collectionList");
    const auto items = list->findItems(name, Qt::MatchExactly);
    QVERIFY2(!items.isEmpty(), qPrintable(name));
    list->setCurrentItem(items.first());
}

// The column of `name`, or -1.
int columnOf(const RecordsModel *model, const QString &name)
{
    return int(model->columns().indexOf(name));
}

void clickHeader(QTableView *table, int column)
{
    QHeaderView *header = table->horizontalHeader();
    const QPoint at(header->sectionViewportPosition(column) + header->sectionSize(column) / 2, header->height() / 2);
    QTest::mouseClick(header->viewport(), Qt::LeftButton, {}, at);
}

// The actions of the console's audit entries, oldest first.
QStringList consoleAudit(Server &server)
{
    server.store().auditLog().flush();
    QStringList actions;
    const Status s = server.store().readLog([&actions](Store::Database &db) -> Status {
        auto select = db.prepare("SELECT action FROM audit_log WHERE actor = 'console' ORDER BY id");
        if (!select)
            return select.error();
        for (;;) {
            auto row = select->step();
            if (!row)
                return row.error();
            if (!*row)
                return {};
            actions << select->text(0);
        }
    });
    if (!s)
        qWarning() << "reading the audit log failed:" << s.error().message;
    return actions;
}

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void windowHasEveryPageInTheSidebar();
    void dashboardShowsTheRealListenAddress();
    void requestCounterMovesAfterAnHttpGet();
    void dashboardShowsTheDatabase();
    void settingsShowEveryKeyWithItsSource();
    void firstRunCreatesASuperuser();
    void firstRunShowsTheBackendsFieldError_data();
    void firstRunShowsTheBackendsFieldError();
    void firstRunComparesThePasswordsLocally();
    void firstRunCanBeSkipped();
    void collectionDialogCreatesACollection();
    void collectionDialogShowsTheBackendsError();
    void recordsArePagedSortedAndFiltered();
    void invalidFilterShowsTheServersMessage();
    void recordDialogCreatesAndShowsFieldErrors();
    void recordIsDeletedAfterConfirmation();
    void referencedCollectionCannotBeDeleted();
    void lateResultAfterThePageIsGoneIsDropped();
    void formatsSizes_data();
    void formatsSizes();
    void formatsUptimes_data();
    void formatsUptimes();

private:
    std::unique_ptr<QTemporaryDir> m_dir;
    QString m_configFile;
    std::unique_ptr<Server> m_server;
};

void TestMainWindow::initTestCase()
{
    QLocale::setDefault(QLocale::c()); // number and size texts are compared literally
}

// Every source of a setting is in play: flags (data dir, port 0), the environment (threads), a
// config file (durability) and defaults (the rest).
void TestMainWindow::init()
{
    m_dir = std::make_unique<QTemporaryDir>();
    QVERIFY(m_dir->isValid());
    m_configFile = m_dir->filePath(QStringLiteral("outpost.conf"));
    QFile file(m_configFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("# written by tst_mainwindow\ndurability = normal\n");
    file.close();

    QProcessEnvironment env;
    env.insert(QStringLiteral("OUTPOST_THREADS"), QStringLiteral("2"));
    auto config = ConfigLoader::load({{QStringLiteral("data-dir"), m_dir->filePath(QStringLiteral("data"))},
                                      {QStringLiteral("listen"), QStringLiteral("127.0.0.1:0")},
                                      {QStringLiteral("config"), m_configFile}},
                                     env);
    QVERIFY2(config.ok(), qPrintable(config ? QString() : config.error().message));
    m_server = std::make_unique<Server>(*config);
    const Status started = m_server->start();
    QVERIFY2(started.ok(), qPrintable(started ? QString() : started.error().message));
}

void TestMainWindow::cleanup()
{
    m_server.reset();
    m_dir.reset();
}

void TestMainWindow::windowHasEveryPageInTheSidebar()
{
    MainWindow window(*m_server);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QStringLiteral("Outpost — ") + m_server->baseUrl());

    auto *sidebar = child<QListWidget>(&window, "sidebar");
    auto *pages = child<QStackedWidget>(&window, "pages");
    QVERIFY(sidebar && pages);
    QCOMPARE(sidebar->count(), 4);
    QCOMPARE(sidebar->item(0)->text(), QStringLiteral("Dashboard"));
    QCOMPARE(sidebar->item(1)->text(), QStringLiteral("Collections"));
    QCOMPARE(sidebar->item(2)->text(), QStringLiteral("Logs"));
    QCOMPARE(sidebar->item(3)->text(), QStringLiteral("Settings"));
    QCOMPARE(pages->count(), 4); // no placeholder pages
    QVERIFY(child<QWidget>(pages->widget(0), "dashboardPage"));
    QVERIFY(child<QWidget>(pages->widget(1), "collectionsPage"));
    QVERIFY(child<QWidget>(pages->widget(2), "logsPage"));
    QVERIFY(child<QWidget>(pages->widget(3), "settingsPage"));

    QCOMPARE(pages->currentIndex(), 0);
    QVERIFY(child<QWidget>(&window, "dashboardPage")->isVisible());
    sidebar->setCurrentRow(1);
    QCOMPARE(pages->currentIndex(), 1);
    QVERIFY(child<QWidget>(&window, "collectionsPage")->isVisible());
    sidebar->setCurrentRow(2);
    QCOMPARE(pages->currentIndex(), 2);
    QVERIFY(child<QWidget>(&window, "logsPage")->isVisible());
    sidebar->setCurrentRow(3);
    QCOMPARE(pages->currentIndex(), 3);
    QVERIFY(child<QWidget>(&window, "settingsPage")->isVisible());
    QVERIFY(!child<QWidget>(&window, "dashboardPage")->isVisible());
}

void TestMainWindow::dashboardShowsTheRealListenAddress()
{
    MainWindow window(*m_server);
    window.show();
    QVERIFY(m_server->port() != 0);
    auto *address = child<QLabel>(&window, "listenAddressLabel");
    QVERIFY(address);
    QCOMPARE(address->text(), QStringLiteral("http://127.0.0.1:%1").arg(m_server->port()));
    QVERIFY(!child<QLabel>(&window, "uptimeLabel")->text().isEmpty());
}

void TestMainWindow::requestCounterMovesAfterAnHttpGet()
{
    MainWindow window(*m_server);
    window.show();
    auto *total = child<QLabel>(&window, "requestCountLabel");
    auto *success = child<QLabel>(&window, "successCountLabel");
    QVERIFY(total && success);
    const quint64 before = counterValue(total);
    const quint64 successBefore = counterValue(success);

    QNetworkAccessManager network;
    network.setProxy(QNetworkProxy::NoProxy);
    std::unique_ptr<QNetworkReply> reply(
        network.get(QNetworkRequest(QUrl(m_server->baseUrl() + QStringLiteral("/api/health")))));
    QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 10'000);
    QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);

    QTRY_COMPARE(counterValue(total), before + 1);
    QTRY_COMPARE(counterValue(success), successBefore + 1);
    QCOMPARE(counterValue(child<QLabel>(&window, "serverErrorCountLabel")), 0u);
}

void TestMainWindow::dashboardShowsTheDatabase()
{
    MainWindow window(*m_server);
    window.show();
    QCOMPARE(child<QLabel>(&window, "databasePathLabel")->text(), m_server->store().dataPath());
    const QString size = child<QLabel>(&window, "databaseSizeLabel")->text();
    QVERIFY(!size.isEmpty());
    static const QRegularExpression shape(QStringLiteral("^[0-9]+(\\.[0-9])? (bytes|KiB|MiB|GiB)$"));
    QVERIFY2(shape.match(size).hasMatch(), qPrintable(size));
    QVERIFY(m_server->store().dataSizeBytes() > 0);
}

void TestMainWindow::settingsShowEveryKeyWithItsSource()
{
    MainWindow window(*m_server);
    window.show();
    auto *table = child<QTableWidget>(&window, "settingsTable");
    QVERIFY(table);
    const QList<Config::Entry> &entries = m_server->config().entries;
    QCOMPARE(entries.size(), ConfigLoader::keys().size());
    QCOMPARE(table->rowCount(), entries.size());
    QHash<QString, QString> sources;
    for (int row = 0; row < table->rowCount(); ++row) {
        const QString key = table->item(row, SettingsPage::KeyColumn)->text();
        QCOMPARE(key, entries.at(row).key);
        QCOMPARE(table->item(row, SettingsPage::ValueColumn)->data(Qt::UserRole).toString(), entries.at(row).value);
        QVERIFY(table->item(row, SettingsPage::ValueColumn)->flags().testFlag(Qt::ItemIsEditable) == false);
        sources.insert(key, table->item(row, SettingsPage::SourceColumn)->text());
    }
    QCOMPARE(sources.value(QStringLiteral("data_dir")), QStringLiteral("command line (--data-dir)"));
    QCOMPARE(sources.value(QStringLiteral("listen")), QStringLiteral("command line (--listen)"));
    QCOMPARE(sources.value(QStringLiteral("threads")), QStringLiteral("environment (OUTPOST_THREADS)"));
    QCOMPARE(sources.value(QStringLiteral("durability")), QStringLiteral("config file (%1:2)").arg(m_configFile));
    QCOMPARE(sources.value(QStringLiteral("tls_cert")), QStringLiteral("default"));
    QVERIFY(child<QLabel>(&window, "configFileLabel")->text().contains(m_configFile));
}

void TestMainWindow::firstRunCreatesASuperuser()
{
    QCOMPARE(*m_server->superusers().count(), 0);
    FirstRunDialog dialog(*m_server);
    dialog.show();
    QSignalSpy created(&dialog, &FirstRunDialog::superuserCreated);
    child<QLineEdit>(&dialog, "emailEdit")->setText(QStringLiteral("admin@example.com"));
    child<QLineEdit>(&dialog, "passwordEdit")->setText(QStringLiteral("correct horse battery"));
    child<QLineEdit>(&dialog, "repeatPasswordEdit")->setText(QStringLiteral("correct horse battery"));
    QTest::mouseClick(child<QPushButton>(&dialog, "createButton"), Qt::LeftButton);

    // The hash runs on the blocking pool; until its result is back, the form is locked.
    QVERIFY(dialog.isBusy());
    QVERIFY(!child<QLineEdit>(&dialog, "emailEdit")->isEnabled());
    QVERIFY(!child<QPushButton>(&dialog, "skipButton")->isEnabled());
    QVERIFY(child<QWidget>(&dialog, "busyIndicator")->isVisible());
    dialog.reject(); // ignored while busy
    QVERIFY(dialog.isVisible());

    QTRY_COMPARE(created.count(), 1);
    QCOMPARE(created.first().first().toString(), QStringLiteral("admin@example.com"));
    QCOMPARE(dialog.result(), int(QDialog::Accepted));
    QVERIFY(!dialog.isVisible());
    QCOMPARE(*m_server->superusers().count(), 1);
}

void TestMainWindow::firstRunShowsTheBackendsFieldError_data()
{
    QTest::addColumn<QString>("email");
    QTest::addColumn<QString>("password");
    QTest::addColumn<QByteArray>("errorLabel");
    QTest::addColumn<QString>("message");
    QTest::newRow("invalid email") << QStringLiteral("not-an-email") << QStringLiteral("correct horse battery")
                                   << QByteArray("emailError") << QStringLiteral("Must be a valid email address.");
    QTest::newRow("short password") << QStringLiteral("admin@example.com") << QStringLiteral("short")
                                    << QByteArray("passwordError") << QStringLiteral("Must be at least 8 characters.");
}

void TestMainWindow::firstRunShowsTheBackendsFieldError()
{
    QFETCH(QString, email);
    QFETCH(QString, password);
    QFETCH(QByteArray, errorLabel);
    QFETCH(QString, message);
    FirstRunDialog dialog(*m_server);
    dialog.show();
    QSignalSpy created(&dialog, &FirstRunDialog::superuserCreated);
    child<QLineEdit>(&dialog, "emailEdit")->setText(email);
    child<QLineEdit>(&dialog, "passwordEdit")->setText(password);
    child<QLineEdit>(&dialog, "repeatPasswordEdit")->setText(password);
    QTest::mouseClick(child<QPushButton>(&dialog, "createButton"), Qt::LeftButton);
    QVERIFY(dialog.isBusy());

    auto *error = child<QLabel>(&dialog, errorLabel.constData());
    QTRY_VERIFY(!dialog.isBusy());
    QVERIFY(error->isVisible());
    QCOMPARE(error->text(), message);
    // The user can correct it: the dialog stays open with the form enabled again.
    QVERIFY(dialog.isVisible());
    QVERIFY(child<QLineEdit>(&dialog, "emailEdit")->isEnabled());
    QVERIFY(!child<QWidget>(&dialog, "busyIndicator")->isVisible());
    QCOMPARE(created.count(), 0);
    QCOMPARE(*m_server->superusers().count(), 0);
}

void TestMainWindow::firstRunComparesThePasswordsLocally()
{
    FirstRunDialog dialog(*m_server);
    dialog.show();
    child<QLineEdit>(&dialog, "emailEdit")->setText(QStringLiteral("admin@example.com"));
    child<QLineEdit>(&dialog, "passwordEdit")->setText(QStringLiteral("correct horse battery"));
    child<QLineEdit>(&dialog, "repeatPasswordEdit")->setText(QStringLiteral("correct horse battery!"));
    QTest::mouseClick(child<QPushButton>(&dialog, "createButton"), Qt::LeftButton);
    QVERIFY(!dialog.isBusy()); // nothing was sent to the backend
    auto *error = child<QLabel>(&dialog, "repeatPasswordError");
    QVERIFY(error->isVisible());
    QCOMPARE(error->text(), QStringLiteral("The passwords do not match."));
    QVERIFY(!child<QLabel>(&dialog, "emailError")->isVisible());
    QCOMPARE(*m_server->superusers().count(), 0);
}

void TestMainWindow::firstRunCanBeSkipped()
{
    FirstRunDialog dialog(*m_server);
    dialog.show();
    QTest::mouseClick(child<QPushButton>(&dialog, "skipButton"), Qt::LeftButton);
    QCOMPARE(dialog.result(), int(QDialog::Rejected));
    QVERIFY(!dialog.isVisible());
    QCOMPARE(*m_server->superusers().count(), 0);
}

// The posts collection most page tests use: title (required text), views (number), flag (bool).
static Result<Data::Collection> createPostsCollection(Server &server)
{
    return server.collections().create(
        {{QStringLiteral("name"), QStringLiteral("posts")},
         {QStringLiteral("fields"),
          QJsonArray {field(QStringLiteral("title"), QStringLiteral("text"), {{QStringLiteral("required"), true}}),
                      field(QStringLiteral("views"), QStringLiteral("number")),
                      field(QStringLiteral("flag"), QStringLiteral("bool"))}}});
}

void TestMainWindow::collectionDialogCreatesACollection()
{
    MainWindow window(*m_server);
    window.show();
    auto *page = window.collectionsPage();
    QTRY_VERIFY_WITH_TIMEOUT(!page->isBusy(), 10'000);
    QTest::mouseClick(child<QPushButton>(page, "newCollectionButton"), Qt::LeftButton);
    auto *dialog = page->findChild<CollectionDialog *>();
    QVERIFY(dialog && dialog->isVisible());
    child<QTableWidget>(dialog, "fieldsTable")->setRowCount(0);
    child<QLineEdit>(dialog, "collectionNameEdit")->setText(QStringLiteral("posts"));
    dialog->addField(QStringLiteral("title"), QStringLiteral("text"), true);
    dialog->addField(QStringLiteral("status"), QStringLiteral("select"), false, QStringLiteral("draft, live"));
    child<QCheckBox>(dialog, "listPublicCheck")->setChecked(true);
    QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
    QVERIFY(dialog->isBusy());

    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(page).contains(QStringLiteral("posts")), 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(page->currentCollection(), QStringLiteral("posts"), 10'000);
    QTRY_VERIFY_WITH_TIMEOUT(!page->findChild<CollectionDialog *>(), 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(pageText(page), QStringLiteral("page 1 of 1, 0 records"), 10'000);
    QVERIFY(page->model()->columns().contains(QStringLiteral("status")));

    auto stored = m_server->collections().get(QStringLiteral("posts"));
    QVERIFY(stored);
    QCOMPARE(stored->listRule, std::optional<QString>(QString()));
    QCOMPARE(stored->viewRule, std::optional<QString>());
    QVERIFY(stored->field(QStringLiteral("title"))->required);
    QCOMPARE(stored->field(QStringLiteral("status"))->values,
             QStringList({QStringLiteral("draft"), QStringLiteral("live")}));
}

void TestMainWindow::collectionDialogShowsTheBackendsError()
{
    CollectionsPage page(*m_server);
    page.show();
    QVERIFY(!child<QPushButton>(&page, "newCollectionButton")->isEnabled()); // the list is loading
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), 10'000);
    QTest::mouseClick(child<QPushButton>(&page, "newCollectionButton"), Qt::LeftButton);
    auto *dialog = page.findChild<CollectionDialog *>();
    QVERIFY(dialog);
    child<QLineEdit>(dialog, "collectionNameEdit")->setText(QStringLiteral("bad name!"));
    QTest::mouseClick(child<QPushButton>(dialog, "createButton"), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), 10'000);
    auto *error = child<QLabel>(dialog, "collectionError");
    QVERIFY(error->isVisible());
    QVERIFY2(error->text().contains(QStringLiteral("name: ")), qPrintable(error->text()));
    QVERIFY(dialog->isVisible());
    QVERIFY(!m_server->collections().get(QStringLiteral("bad name!")));
}

void TestMainWindow::recordsArePagedSortedAndFiltered()
{
    QVERIFY(createPostsCollection(*m_server));
    const Status created = createPosts(*m_server, QStringLiteral("posts"), 60);
    QVERIFY2(created.ok(), qPrintable(created ? QString() : created.error().message));
    CollectionsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(&page).contains(QStringLiteral("posts")), 10'000);
    selectCollection(&page, QStringLiteral("posts"));
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 2, 60 records"), 10'000);

    const RecordsModel *model = page.model();
    QCOMPARE(model->rowCount(), 50);
    const QStringList columns = model->columns();
    QCOMPARE(columns.first(), QStringLiteral("id"));
    QVERIFY(columns.indexOf(QStringLiteral("title")) < columns.indexOf(QStringLiteral("views")));
    QVERIFY(columns.indexOf(QStringLiteral("views")) < columns.indexOf(QStringLiteral("flag")));
    const int title = columnOf(model, QStringLiteral("title"));
    const int views = columnOf(model, QStringLiteral("views"));
    const int flag = columnOf(model, QStringLiteral("flag"));
    QCOMPARE(model->index(0, title).data().toString(), QStringLiteral("title 0"));
    QCOMPARE(model->index(7, views).data().toString(), QStringLiteral("7"));
    QCOMPARE(model->index(7, flag).data().toString(), QStringLiteral("false"));

    QTest::mouseClick(child<QPushButton>(&page, "nextPageButton"), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 2 of 2, 60 records"), 10'000);
    QCOMPARE(model->rowCount(), 10);
    QCOMPARE(model->index(0, title).data().toString(), QStringLiteral("title 50"));
    QVERIFY(!child<QPushButton>(&page, "nextPageButton")->isEnabled());

    // A click on a header sorts by that field (back to page 1), a second click reverses it.
    auto *table = child<QTableView>(&page, "recordsTable");
    clickHeader(table, views);
    QCOMPARE(page.sort(), QStringLiteral("views"));
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 2, 60 records"), 10'000);
    clickHeader(table, views);
    QCOMPARE(page.sort(), QStringLiteral("-views"));
    QTRY_COMPARE_WITH_TIMEOUT(model->index(0, views).data().toString(), QStringLiteral("59"), 10'000);

    auto *filter = child<QLineEdit>(&page, "filterEdit");
    filter->setText(QStringLiteral("views < 5"));
    QTest::keyClick(filter, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 1, 5 records"), 10'000);
    QCOMPARE(model->rowCount(), 5);
    QCOMPARE(model->index(0, views).data().toString(), QStringLiteral("4")); // still sorted -views
    QVERIFY(!child<QLabel>(&page, "filterError")->isVisible());
}

void TestMainWindow::invalidFilterShowsTheServersMessage()
{
    QVERIFY(createPostsCollection(*m_server));
    QVERIFY(createPosts(*m_server, QStringLiteral("posts"), 3));
    CollectionsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(&page).contains(QStringLiteral("posts")), 10'000);
    selectCollection(&page, QStringLiteral("posts"));
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 3, 10'000);

    auto *filter = child<QLineEdit>(&page, "filterEdit");
    auto *error = child<QLabel>(&page, "filterError");
    filter->setText(QStringLiteral("views >>> 3"));
    QTest::keyClick(filter, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(error->isVisible(), 10'000);
    QVERIFY2(error->text().startsWith(QStringLiteral("Invalid filter: ")), qPrintable(error->text()));
    QCOMPARE(page.model()->rowCount(), 0);

    filter->setText(QStringLiteral("nosuchfield = 1"));
    QTest::keyClick(filter, Qt::Key_Return);
    QTRY_VERIFY_WITH_TIMEOUT(error->text().contains(QStringLiteral("nosuchfield")), 10'000);

    filter->clear();
    QTest::keyClick(filter, Qt::Key_Return);
    QTRY_COMPARE_WITH_TIMEOUT(page.model()->rowCount(), 3, 10'000);
    QVERIFY(!error->isVisible());
}

void TestMainWindow::recordDialogCreatesAndShowsFieldErrors()
{
    QVERIFY(createPostsCollection(*m_server));
    CollectionsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(&page).contains(QStringLiteral("posts")), 10'000);
    selectCollection(&page, QStringLiteral("posts"));
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 1, 0 records"), 10'000);

    QTest::mouseClick(child<QPushButton>(&page, "newRecordButton"), Qt::LeftButton);
    auto *dialog = page.findChild<RecordDialog *>();
    QVERIFY(dialog && dialog->isVisible());
    child<QLineEdit>(dialog, "field_views")->setText(QStringLiteral("many"));
    QTest::mouseClick(dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!dialog->isBusy(), 10'000);
    QVERIFY(dialog->isVisible()); // stays open for the user to correct
    QVERIFY(child<QLabel>(dialog, "error_title")->isVisible());
    QVERIFY(!child<QLabel>(dialog, "error_title")->text().isEmpty());
    QVERIFY(child<QLabel>(dialog, "error_views")->isVisible());
    QVERIFY(!child<QLabel>(dialog, "error_flag")->isVisible());

    child<QLineEdit>(dialog, "field_title")->setText(QStringLiteral("hello"));
    child<QLineEdit>(dialog, "field_views")->setText(QStringLiteral("42"));
    child<QCheckBox>(dialog, "field_flag")->setChecked(true);
    QTest::mouseClick(dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save), Qt::LeftButton);
    QTRY_VERIFY_WITH_TIMEOUT(!page.findChild<RecordDialog *>(), 10'000);
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 1, 1 records"), 10'000);
    const RecordsModel *model = page.model();
    QCOMPARE(model->index(0, columnOf(model, QStringLiteral("title"))).data().toString(), QStringLiteral("hello"));
    QCOMPARE(model->index(0, columnOf(model, QStringLiteral("views"))).data().toString(), QStringLiteral("42"));
    QCOMPARE(model->index(0, columnOf(model, QStringLiteral("flag"))).data().toString(), QStringLiteral("true"));

    // Editing (double-click) opens the form filled in; saving updates the row.
    auto *table = child<QTableView>(&page, "recordsTable");
    table->selectRow(0);
    QTest::mouseClick(child<QPushButton>(&page, "editRecordButton"), Qt::LeftButton);
    dialog = page.findChild<RecordDialog *>();
    QVERIFY(dialog);
    QCOMPARE(child<QLineEdit>(dialog, "field_title")->text(), QStringLiteral("hello"));
    child<QLineEdit>(dialog, "field_title")->setText(QStringLiteral("hello again"));
    QTest::mouseClick(dialog->findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Save), Qt::LeftButton);
    QTRY_COMPARE_WITH_TIMEOUT(model->index(0, columnOf(model, QStringLiteral("title"))).data().toString(),
                              QStringLiteral("hello again"), 10'000);
    // Console changes are audited like the API's, with the console as the actor.
    QCOMPARE(consoleAudit(*m_server), (QStringList {QStringLiteral("record.create"), QStringLiteral("record.update")}));
}

void TestMainWindow::recordIsDeletedAfterConfirmation()
{
    QVERIFY(createPostsCollection(*m_server));
    QVERIFY(createPosts(*m_server, QStringLiteral("posts"), 3));
    CollectionsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(&page).contains(QStringLiteral("posts")), 10'000);
    selectCollection(&page, QStringLiteral("posts"));
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 1, 3 records"), 10'000);
    auto *del = child<QPushButton>(&page, "deleteRecordButton");
    QVERIFY(!del->isEnabled()); // nothing selected

    child<QTableView>(&page, "recordsTable")->selectRow(1);
    QVERIFY(del->isEnabled());
    QTest::mouseClick(del, Qt::LeftButton);
    auto *confirm = child<QMessageBox>(&page, "confirmBox");
    QVERIFY(confirm);
    confirm->button(QMessageBox::Yes)->click();
    QTRY_COMPARE_WITH_TIMEOUT(pageText(&page), QStringLiteral("page 1 of 1, 2 records"), 10'000);
    const RecordsModel *model = page.model();
    const int title = columnOf(model, QStringLiteral("title"));
    QCOMPARE(model->index(0, title).data().toString(), QStringLiteral("title 0"));
    QCOMPARE(model->index(1, title).data().toString(), QStringLiteral("title 2"));
    QCOMPARE(consoleAudit(*m_server), QStringList {QStringLiteral("record.delete")});
}

void TestMainWindow::referencedCollectionCannotBeDeleted()
{
    QVERIFY(m_server->collections().create(
        {{QStringLiteral("name"), QStringLiteral("authors")},
         {QStringLiteral("fields"), QJsonArray {field(QStringLiteral("name"), QStringLiteral("text"))}}}));
    QVERIFY(m_server->collections().create(
        {{QStringLiteral("name"), QStringLiteral("posts")},
         {QStringLiteral("fields"),
          QJsonArray {field(QStringLiteral("author"), QStringLiteral("relation"),
                            {{QStringLiteral("collectionId"), QStringLiteral("authors")}})}}}));
    CollectionsPage page(*m_server);
    page.show();
    QTRY_VERIFY_WITH_TIMEOUT(listedCollections(&page).contains(QStringLiteral("authors")), 10'000);
    selectCollection(&page, QStringLiteral("authors"));
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), 10'000);

    QTest::mouseClick(child<QPushButton>(&page, "deleteCollectionButton"), Qt::LeftButton);
    child<QMessageBox>(&page, "confirmBox")->button(QMessageBox::Yes)->click();
    QTRY_VERIFY_WITH_TIMEOUT(child<QMessageBox>(&page, "errorBox"), 10'000);
    auto *error = child<QMessageBox>(&page, "errorBox");
    QVERIFY2(error->text().contains(QStringLiteral("posts.author")), qPrintable(error->text()));
    error->button(QMessageBox::Ok)->click();
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), 10'000);
    QVERIFY(listedCollections(&page).contains(QStringLiteral("authors")));

    // Deleting the referencing collection first works, and the list follows.
    selectCollection(&page, QStringLiteral("posts"));
    QTRY_VERIFY_WITH_TIMEOUT(!page.isBusy(), 10'000);
    QTest::mouseClick(child<QPushButton>(&page, "deleteCollectionButton"), Qt::LeftButton);
    child<QMessageBox>(&page, "confirmBox")->button(QMessageBox::Yes)->click();
    QTRY_VERIFY_WITH_TIMEOUT(!listedCollections(&page).contains(QStringLiteral("posts")), 10'000);
    QVERIFY(!m_server->collections().get(QStringLiteral("posts")));
}

void TestMainWindow::lateResultAfterThePageIsGoneIsDropped()
{
    QVERIFY(createPostsCollection(*m_server));
    QVERIFY(createPosts(*m_server, QStringLiteral("posts"), 200));
    auto page = std::make_unique<CollectionsPage>(*m_server);
    QVERIFY(page->isBusy()); // the list is loading
    page.reset();
    // The pool's task finishes and queues its result to the server; it must find no page.
    m_server->blockingPool()->waitForDone(10'000);
    QTest::qWait(50);
}

void TestMainWindow::formatsSizes_data()
{
    QTest::addColumn<qint64>("bytes");
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << qint64(0) << QStringLiteral("0 bytes");
    QTest::newRow("bytes") << qint64(1023) << QStringLiteral("1023 bytes");
    QTest::newRow("1 KiB") << qint64(1024) << QStringLiteral("1.0 KiB");
    QTest::newRow("48 KiB") << qint64(48 * 1024) << QStringLiteral("48 KiB");
    QTest::newRow("1.5 MiB") << qint64(3 * 512 * 1024) << QStringLiteral("1.5 MiB");
    QTest::newRow("20 GiB") << qint64(20) * 1024 * 1024 * 1024 << QStringLiteral("20 GiB");
}

void TestMainWindow::formatsSizes()
{
    QFETCH(qint64, bytes);
    QFETCH(QString, text);
    QCOMPARE(DashboardPage::formatSize(bytes), text);
}

void TestMainWindow::formatsUptimes_data()
{
    QTest::addColumn<qint64>("seconds");
    QTest::addColumn<QString>("text");
    QTest::newRow("zero") << qint64(0) << QStringLiteral("0 s");
    QTest::newRow("seconds") << qint64(42) << QStringLiteral("42 s");
    QTest::newRow("minutes") << qint64(3 * 60 + 7) << QStringLiteral("3 min 07 s");
    QTest::newRow("hours") << qint64(2 * 3600 + 5 * 60 + 59) << QStringLiteral("2 h 05 min");
    QTest::newRow("days") << qint64(3 * 86400 + 4 * 3600 + 1) << QStringLiteral("3 d 4 h");
}

void TestMainWindow::formatsUptimes()
{
    QFETCH(qint64, seconds);
    QFETCH(QString, text);
    QCOMPARE(DashboardPage::formatUptime(seconds), text);
}

QTEST_MAIN(TestMainWindow)
#include "tst_mainwindow.moc"
