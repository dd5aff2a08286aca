// The console against a real server: a fresh data directory, a free loopback port, real HTTP.
#include <QLabel>
#include <QLineEdit>
#include <QListWidget>
#include <QNetworkAccessManager>
#include <QNetworkProxy>
#include <QNetworkReply>
#include <QPushButton>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QStackedWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <memory>

#include "auth/superusers.h"
#include "dashboardpage.h"
#include "firstrundialog.h"
#include "mainwindow.h"
#include "server/server.h"
#include "settingspage.h"
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

} // namespace

class TestMainWindow : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void cleanup();

    void windowHasBothPagesInTheSidebar();
    void dashboardShowsTheRealListenAddress();
    void requestCounterMovesAfterAnHttpGet();
    void dashboardShowsTheDatabase();
    void settingsShowEveryKeyWithItsSource();
    void firstRunCreatesASuperuser();
    void firstRunShowsTheBackendsFieldError_data();
    void firstRunShowsTheBackendsFieldError();
    void firstRunComparesThePasswordsLocally();
    void firstRunCanBeSkipped();
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

void TestMainWindow::windowHasBothPagesInTheSidebar()
{
    MainWindow window(*m_server);
    window.show();
    QVERIFY(QTest::qWaitForWindowExposed(&window));
    QCOMPARE(window.windowTitle(), QStringLiteral("Outpost — ") + m_server->baseUrl());

    auto *sidebar = child<QListWidget>(&window, "sidebar");
    auto *pages = child<QStackedWidget>(&window, "pages");
    QVERIFY(sidebar && pages);
    QCOMPARE(sidebar->count(), 2);
    QCOMPARE(sidebar->item(0)->text(), QStringLiteral("Dashboard"));
    QCOMPARE(sidebar->item(1)->text(), QStringLiteral("Settings"));
    QCOMPARE(pages->count(), 2); // no placeholder pages
    QVERIFY(child<QWidget>(pages->widget(0), "dashboardPage"));
    QVERIFY(child<QWidget>(pages->widget(1), "settingsPage"));

    QCOMPARE(pages->currentIndex(), 0);
    QVERIFY(child<QWidget>(&window, "dashboardPage")->isVisible());
    sidebar->setCurrentRow(1);
    QCOMPARE(pages->currentIndex(), 1);
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
