#pragma once

#include <QJsonObject>
#include <QString>
#include <utility>
#include <variant>

namespace Outpost {

// What went wrong, independent of transport. Http::statusFor() is the one place that maps these to
// HTTP statuses; the CLI maps them to exit codes.
enum class ErrorCode {
    InvalidArgument, // the caller sent something malformed or failing validation
    NotFound,
    AlreadyExists,
    Unauthenticated, // missing, expired or forged credentials
    PermissionDenied,
    Conflict,
    Unavailable, // a dependency (disk, database) cannot serve right now
    Internal,
};

struct Error
{
    ErrorCode code = ErrorCode::Internal;
    QString message;
    // Machine-readable extras, e.g. {"fields": {...}} for validation errors.
    QJsonObject details;
};

inline Error makeError(ErrorCode code, QString message, QJsonObject details = {})
{
    return Error {code, std::move(message), std::move(details)};
}

// Either a value or an Error. Fallible backend calls return this; no exception crosses a layer.
template <typename T> class [[nodiscard]] Result
{
public:
    Result(T value)
        : m_v(std::in_place_index<0>, std::move(value))
    {
    }
    Result(Error error)
        : m_v(std::in_place_index<1>, std::move(error))
    {
    }

    bool ok() const { return m_v.index() == 0; }
    explicit operator bool() const { return ok(); }

    T &value() & { return std::get<0>(m_v); }
    const T &value() const & { return std::get<0>(m_v); }
    T &&value() && { return std::get<0>(std::move(m_v)); }
    T *operator->() { return &value(); }
    const T *operator->() const { return &value(); }
    T &operator*() & { return value(); }
    const T &operator*() const & { return value(); }

    const Error &error() const { return std::get<1>(m_v); }

private:
    std::variant<T, Error> m_v;
};

template <> class [[nodiscard]] Result<void>
{
public:
    Result() = default;
    Result(Error error)
        : m_error(std::move(error))
        , m_ok(false)
    {
    }

    bool ok() const { return m_ok; }
    explicit operator bool() const { return m_ok; }
    const Error &error() const { return m_error; }

private:
    Error m_error;
    bool m_ok = true;
};

using Status = Result<void>;

} // namespace Outpost
