// The abuse half of tests/bench/abuse.sh: fires malformed, oversized and slow requests at an Outpost
// server on loopback, with bounded concurrency, and tallies for each whether the server answered
// with the status it should or (where that is right) closed the connection. Not a test: ctest does
// not run it.
//
//   abuse --port P [--count 1000] [--concurrency 100] [--spread 20] [--source 127.0.0.2]
//
//   --count        requests in all; the cases below in turn
//   --concurrency  connections open at once
//   --spread       seconds over which the requests are started (evenly), so that they overlap a
//                  measured load running meanwhile
//   --source       local address to connect from: another loopback address makes the abuse a client
//                  of its own, apart from the measured load, as it would be in reality
//
// Prints one line per case and the totals; exits 0 when every request got what it should, 1 when
// not, 2 on bad usage. Bounded: each request has a deadline (kCaseDeadline), the run one too.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

using Clock = std::chrono::steady_clock;
using Ms = std::chrono::milliseconds;

// Longer than the server's slowest answer: the 30 s body timeout plus the lingering close.
constexpr Ms kCaseDeadline {45'000};

// What the client sends: pieces, each after a pause.
struct Step
{
    std::string bytes;
    Ms pauseBefore {0};
};

struct Case
{
    const char *name;
    std::vector<Step> steps;
    int expected; // the status the server must answer; 0: it must close without answering
};

std::string repeat(const std::string &s, int n)
{
    std::string out;
    for (int i = 0; i < n; ++i)
        out += s;
    return out;
}

std::vector<Case> cases(const std::string &host)
{
    const std::string h = "Host: " + host + "\r\n";
    const std::string login = "POST /api/collections/_superusers/auth-with-password HTTP/1.1\r\n" + h;
    const std::string post = "POST /api/batch HTTP/1.1\r\n" + h;
    std::vector<Case> out = {
        {"request line: garbage", {{"GARBAGE\r\n\r\n"}}, 400},
        {"request line: binary (TLS hello)",
         {{std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", 15)}},
         400},
        {"request line: unknown method", {{"BREW /api/health HTTP/1.1\r\n" + h + "\r\n"}}, 501},
        {"request line: HTTP/2.0", {{"GET /api/health HTTP/2.0\r\n" + h + "\r\n"}}, 505},
        {"request line: too long (9 KiB)",
         {{"GET /api/health?q=" + std::string(9 * 1024, 'a') + " HTTP/1.1\r\n"}},
         414},
        {"header: no Host", {{"GET /api/health HTTP/1.1\r\n\r\n"}}, 400},
        {"header: line without colon", {{"GET /api/health HTTP/1.1\r\n" + h + "Bad Header Line\r\n\r\n"}}, 400},
        {"header: obs-fold", {{"GET /api/health HTTP/1.1\r\n" + h + "X-A: 1\r\n  folded\r\n\r\n"}}, 400},
        {"header: control character", {{"GET /api/health HTTP/1.1\r\n" + h + "X-A: a\x01z\r\n\r\n"}}, 400},
        {"header: unsupported Expect", {{"GET /api/health HTTP/1.1\r\n" + h + "Expect: 200-ok\r\n\r\n"}}, 417},
        {"header: too many fields (100)",
         {{"GET /api/health HTTP/1.1\r\n" + h + repeat("X-F: v\r\n", 100) + "\r\n"}},
         431},
        {"header: head too large (40 KiB)",
         {{"GET /api/health HTTP/1.1\r\n" + h + repeat("X-Filler: " + std::string(1000, 'v') + "\r\n", 40) + "\r\n"}},
         431},
        {"framing: conflicting Content-Length", {{post + "Content-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"}}, 400},
        {"framing: negative Content-Length", {{post + "Content-Length: -5\r\n\r\n"}}, 400},
        {"framing: Transfer-Encoding with Content-Length",
         {{post + "Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"}},
         400},
        {"framing: unsupported transfer coding", {{post + "Transfer-Encoding: gzip\r\n\r\n"}}, 501},
        {"body: too large (1 GiB announced)", {{post + "Content-Length: 1073741824\r\n\r\n"}}, 413},
        {"body: too large, with Expect", {{post + "Content-Length: 1073741824\r\nExpect: 100-continue\r\n\r\n"}}, 413},
        {"body: over the login route's limit", {{login + "Content-Length: 100000\r\n\r\n"}}, 413},
        {"chunked: chunk too large", {{post + "Transfer-Encoding: chunked\r\n\r\n10000000\r\n"}}, 413},
        {"chunked: bad chunk size", {{post + "Transfer-Encoding: chunked\r\n\r\nzz\r\n"}}, 400},
        {"chunked: no CRLF after data", {{post + "Transfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n"}}, 400},
        {"host: another name", {{"GET /api/health HTTP/1.1\r\nHost: evil.example\r\n\r\n"}}, 403},
        {"host: absolute-form target elsewhere",
         {{"GET http://evil.example/api/health HTTP/1.1\r\n" + h + "\r\n"}},
         403},
    };
    // Slow clients. A head must be complete within the header timeout however it trickles in; a body
    // that stops is cut off after the body timeout; one that trickles to its end is answered.
    Case slowHead {"slowloris: head, a field a second", {{"GET /api/health HTTP/1.1\r\n" + h}}, 408};
    for (int i = 0; i < 40; ++i)
        slowHead.steps.push_back({"X-Slow-" + std::to_string(i) + ": x\r\n", Ms(1000)});
    out.push_back(slowHead);
    out.push_back({"slowloris: body stalls", {{login + "Content-Length: 100\r\n\r\n{\"identity\":"}}, 408});
    const std::string trickled = "{\"a\":\"bcdefghi\"}";
    Case slowBody {
        "slowloris: body, a byte per 400 ms",
        {{login + "Content-Type: application/json\r\nContent-Length: " + std::to_string(trickled.size()) + "\r\n\r\n"}},
        400};
    for (char c : trickled)
        slowBody.steps.push_back({std::string(1, c), Ms(400)});
    out.push_back(slowBody);
    out.push_back({"slowloris: silent connection", {}, 0});
    return out;
}

struct Tally
{
    int sent = 0;
    int ok = 0;
    int closed = 0; // closed without an answer where one was due
    int noAnswer = 0; // neither answered nor closed by the deadline
    std::map<int, int> wrong; // other statuses
    std::vector<double> answerMs;
};

struct Active
{
    int fd = -1;
    size_t caseIndex = 0;
    size_t step = 0;
    size_t offset = 0; // within the current step
    Clock::time_point stepAt; // when the current step may be sent
    Clock::time_point started;
    std::string received;
};

int parseStatus(const std::string &received)
{
    if (received.find("\r\n\r\n") == std::string::npos || received.compare(0, 7, "HTTP/1.") != 0
        || received.size() < 12)
        return -1;
    return std::atoi(received.c_str() + 9);
}

int openConnection(const sockaddr_in &server, const char *source)
{
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    const int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    if (source) {
        sockaddr_in local {};
        local.sin_family = AF_INET;
        ::inet_pton(AF_INET, source, &local.sin_addr);
        if (::bind(fd, reinterpret_cast<sockaddr *>(&local), sizeof local) != 0) {
            ::close(fd);
            return -1;
        }
    }
    if (::connect(fd, reinterpret_cast<const sockaddr *>(&server), sizeof server) != 0 && errno != EINPROGRESS) {
        ::close(fd);
        return -1;
    }
    return fd;
}

double msSince(Clock::time_point t)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

struct Options
{
    int port = 0;
    int count = 1000;
    int concurrency = 100;
    double spread = 20;
    const char *source = nullptr;
    std::string host; // the Host field of well-formed requests
};

bool parseOptions(int argc, char **argv, Options *o)
{
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string name = argv[i];
        const char *value = argv[i + 1];
        if (name == "--port")
            o->port = std::atoi(value);
        else if (name == "--count")
            o->count = std::atoi(value);
        else if (name == "--concurrency")
            o->concurrency = std::atoi(value);
        else if (name == "--spread")
            o->spread = std::atof(value);
        else if (name == "--source")
            o->source = value;
        else
            return false;
    }
    if (argc % 2 == 0)
        return false;
    o->host = "127.0.0.1:" + std::to_string(o->port);
    return o->port > 0 && o->port < 65536 && o->count > 0 && o->count <= 1'000'000 && o->concurrency > 0
        && o->concurrency <= 10'000 && o->spread >= 0 && o->spread <= 3600;
}

} // namespace

int main(int argc, char **argv)
{
    Options options;
    if (!parseOptions(argc, argv, &options)) {
        std::fprintf(stderr,
                     "usage: abuse --port P [--count N] [--concurrency C] [--spread SECONDS] [--source ADDRESS]\n");
        return 2;
    }
    std::signal(SIGPIPE, SIG_IGN);
    sockaddr_in server {};
    server.sin_family = AF_INET;
    server.sin_port = htons(uint16_t(options.port));
    server.sin_addr.s_addr = htonl(INADDR_LOOPBACK);

    const std::vector<Case> all = cases(options.host);
    std::vector<Tally> tallies(all.size());
    std::vector<Active> active;
    const Clock::time_point begin = Clock::now();
    const Clock::time_point runDeadline
        = begin + std::chrono::duration_cast<Ms>(std::chrono::duration<double>(options.spread)) + kCaseDeadline * 2;
    int launched = 0;
    int failedConnects = 0;

    const auto finish = [&](size_t i, int status) {
        Active &a = active[i];
        Tally &t = tallies[a.caseIndex];
        const int expected = all[a.caseIndex].expected;
        if (status == expected) {
            ++t.ok;
            t.answerMs.push_back(msSince(a.started));
        } else if (status == 0) {
            ++t.closed;
        } else if (status == -1) {
            ++t.noAnswer;
        } else {
            ++t.wrong[status];
        }
        ::close(a.fd);
        active.erase(active.begin() + long(i));
    };

    while ((launched < options.count || !active.empty()) && Clock::now() < runDeadline) {
        const Clock::time_point now = Clock::now();
        // Start the requests that are due, as far as the concurrency allows.
        while (launched < options.count && int(active.size()) < options.concurrency
               && now >= begin
                       + std::chrono::duration_cast<Ms>(
                             std::chrono::duration<double>(options.spread * launched / options.count))) {
            const size_t index = size_t(launched) % all.size();
            ++launched;
            const int fd = openConnection(server, options.source);
            if (fd < 0) {
                ++failedConnects;
                continue;
            }
            Active a;
            a.fd = fd;
            a.caseIndex = index;
            a.started = now;
            a.stepAt = now + (all[index].steps.empty() ? Ms(0) : all[index].steps[0].pauseBefore);
            ++tallies[index].sent;
            active.push_back(std::move(a));
        }
        // Poll everything open: readable always, writable when a step is due.
        std::vector<pollfd> fds(active.size());
        Clock::time_point wake = now + Ms(50);
        for (size_t i = 0; i < active.size(); ++i) {
            const Active &a = active[i];
            const auto &steps = all[a.caseIndex].steps;
            fds[i] = {a.fd, POLLIN, 0};
            if (a.step < steps.size()) {
                if (a.stepAt <= now)
                    fds[i].events |= POLLOUT;
                else
                    wake = std::min(wake, a.stepAt);
            }
        }
        const int timeout = int(std::max<long>(0, std::chrono::duration_cast<Ms>(wake - now).count()));
        if (::poll(fds.data(), nfds_t(fds.size()), timeout) < 0 && errno != EINTR) {
            std::perror("poll");
            return 1;
        }
        // Back to front, so that finishing (erasing) one does not move the ones still to visit.
        for (size_t i = active.size(); i-- > 0;) {
            Active &a = active[i];
            const auto &steps = all[a.caseIndex].steps;
            bool done = false;
            if (fds[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                char buffer[16 * 1024];
                const ssize_t n = ::recv(a.fd, buffer, sizeof buffer, 0);
                if (n > 0) {
                    a.received.append(buffer, size_t(n));
                    const int status = parseStatus(a.received);
                    if (status == 100) {
                        a.received.erase(0, a.received.find("\r\n\r\n") + 4); // interim: read on
                    } else if (status > 0) {
                        finish(i, status);
                        done = true;
                    }
                } else if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) {
                    const int status = parseStatus(a.received);
                    finish(i, status > 0 ? status : 0);
                    done = true;
                }
            }
            if (!done && (fds[i].revents & POLLOUT) && a.step < steps.size()) {
                const std::string &bytes = steps[a.step].bytes;
                const ssize_t n
                    = bytes.empty() ? 0 : ::send(a.fd, bytes.data() + a.offset, bytes.size() - a.offset, MSG_NOSIGNAL);
                if (n >= 0) {
                    a.offset += size_t(n);
                    if (a.offset == bytes.size()) {
                        ++a.step;
                        a.offset = 0;
                        if (a.step < steps.size())
                            a.stepAt = Clock::now() + steps[a.step].pauseBefore;
                    }
                } else if (errno != EAGAIN && errno != EWOULDBLOCK) {
                    a.step = steps.size(); // the server stopped reading; its answer may still come
                }
            }
            if (!done && msSince(a.started) > double(kCaseDeadline.count()))
                finish(i, -1);
        }
    }
    for (size_t i = active.size(); i-- > 0;)
        finish(i, -1);

    int sent = 0;
    int ok = 0;
    std::printf("%-46s %5s %9s %5s %7s %6s %9s  %s\n", "case", "sent", "expected", "ok", "closed", "none", "answer ms",
                "other statuses");
    for (size_t i = 0; i < all.size(); ++i) {
        Tally &t = tallies[i];
        sent += t.sent;
        const int right = t.ok; // for a case that must close, its closes
        ok += right;
        std::sort(t.answerMs.begin(), t.answerMs.end());
        const double median = t.answerMs.empty() ? 0 : t.answerMs[t.answerMs.size() / 2];
        std::string other;
        for (const auto &[status, n] : t.wrong)
            other += std::to_string(status) + "x" + std::to_string(n) + " ";
        const std::string expected = all[i].expected == 0 ? "close" : std::to_string(all[i].expected);
        std::printf("%-46s %5d %9s %5d %7d %6d %9.0f  %s\n", all[i].name, t.sent, expected.c_str(), right, t.closed,
                    t.noAnswer, median, other.c_str());
    }
    std::printf("total: %d of %d requests got what they should (%d could not connect); %.1f s\n", ok, options.count,
                failedConnects, msSince(begin) / 1000);
    return ok == options.count ? 0 : 1;
}
